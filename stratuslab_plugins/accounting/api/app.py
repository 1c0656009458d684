"""The usage API's WSGI application: three read-only JSON resources.

::

    GET /v1/usage?since=2026-11-01&until=2026-12-01&step=day&by=vo
        {"since", "until", "requested_until", "step", "by", "vo_map_size",
         "recorded_since",
         "series": [{"key": "atlas", "points": [{"start", "end",
                     "partial", "wall_hours", "cpu_hours", "cpu_known",
                     "cpu_unknown"}, ...]}, ...]}
    GET /v1/records?since=...&until=...
        {"since", "until", "requested_until", "reported_until",
         "records": [{"uuid", "project_id", "vo", "status", "wall_hours",
         "cpu_hours", "lifetime_wall_hours", "lifetime_cpu_hours",
         "send_state", ...}]}
    GET /v1/queue
        {"path", "exists", "messages", "oldest", "reported_until",
         "last_run", "runs": [{"finished_at", "window_start", "window_end",
         "records", "messages", "outcome", "error", ...}, ...]}

:func:`build_app` puts keystonemiddleware's ``auth_token`` in front, so
every request carries a validated token; :mod:`.policy` decides what of
the ledger it may see. Errors are JSON ``{"error": message}`` with 400
(a bad parameter, named), 403, 404 or 503 (no ledger: the message says
which option to set).

A period ends at the time of the request at the latest (``until`` is
where it was computed to, ``requested_until`` what was asked), and the
bucket still running then is ``partial``. ``recorded_since`` is when the
ledger's earliest usage began (any project's), null when the listener
never stored anything. ``wall_hours`` of a record are
those within the period; ``lifetime_*`` its whole life. CPU time no agent
measured is ``null``.
"""

import datetime
import logging

from keystonemiddleware import auth_token
from oslo_context import context as oslo_context
import webob
import webob.dec

from stratuslab_plugins.accounting.api import periods
from stratuslab_plugins.accounting.api import policy
from stratuslab_plugins.accounting.api import reports
from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.ledger import state as state_mod
from stratuslab_plugins.accounting.ledger import usage as usage_mod
from stratuslab_plugins.conf import accounting as accounting_conf
from stratuslab_plugins.conf import api as api_conf

LOG = logging.getLogger(__name__)
UTC = datetime.timezone.utc


def _json(status, body):
    return webob.Response(status=status, json_body=body,
                          content_type='application/json', charset='utf-8')


class Ledgers:
    """The two ledger views the API reads, opened on first use.

    Opened lazily so that the API starts (and says what is wrong, per
    request) even while the database is not there yet.
    """

    def __init__(self, url):
        self.url = url
        self._opened = None

    def get(self):
        if self._opened is None:
            if not self.url:
                raise exceptions.LedgerError(
                    'no accounting ledger is configured: set [accounting] '
                    'ledger_connection to the database the accounting and '
                    'the listener write')
            self._opened = (usage_mod.UsageLedger.from_url(self.url),
                            state_mod.StateLedger.from_url(self.url))
        return self._opened


class UsageAPI:
    """The application behind ``auth_token``.

    :param conf: a ConfigOpts with the ``[accounting]``, ``[accounting_api]``
        and ``[grid]`` groups registered.
    :param vo_map: an object with ``vo_for_project(project_id)``.
    :param ledgers: a :class:`Ledgers`.
    :param now: a callable returning the current aware datetime (tests).
    """

    def __init__(self, conf, vo_map, ledgers, enforcer=None, now=None):
        self.conf = conf
        self.vo_map = vo_map
        self.ledgers = ledgers
        self.enforcer = enforcer or policy.make_enforcer(conf)
        self.now = now or (lambda: datetime.datetime.now(UTC))
        self.routes = {'/v1/usage': self.usage, '/v1/records': self.records,
                       '/v1/queue': self.queue, '/': self.versions,
                       '/v1': self.versions}

    @webob.dec.wsgify
    def __call__(self, request):
        handler = self.routes.get(request.path_info.rstrip('/') or '/')
        if handler is None:
            return _json(404, {'error': 'no resource %s; try /v1/usage, '
                                        '/v1/records or /v1/queue'
                                        % request.path_info})
        if request.method != 'GET':
            return _json(405, {'error': 'the usage API is read-only'})
        if request.environ.get('HTTP_X_IDENTITY_STATUS') != 'Confirmed':
            return _json(401, {'error': 'a valid Keystone token is needed'})
        context = oslo_context.RequestContext.from_environ(request.environ)
        authorizer = policy.Authorizer(self.enforcer,
                                       context.to_policy_values(),
                                       self.vo_map.vo_for_project)
        try:
            query = periods.query_values(request.environ.get(
                'QUERY_STRING', ''))
            return _json(200, handler(query, authorizer))
        except periods.BadRequest as exc:
            return _json(400, {'error': str(exc)})
        except exceptions.LedgerError as exc:
            LOG.warning('usage API: %s', exc)
            return _json(503, {'error': str(exc)})
        except PermissionError as exc:
            return _json(403, {'error': str(exc)})

    def versions(self, query, authorizer):
        return {'versions': [{'id': 'v1', 'status': 'CURRENT',
                              'resources': ['usage', 'records', 'queue']}]}

    def _period(self, query):
        return periods.period(query.get('since'), query.get('until'),
                              self.now(),
                              self.conf.accounting_api.max_period_days)

    def usage(self, query, authorizer):
        period = self._period(query)
        step = periods.choice(query.get('step'), 'step', periods.STEPS,
                              'day')
        by = periods.choice(query.get('by'), 'by', periods.GROUPINGS, 'vo')
        usage_ledger, _state = self.ledgers.get()
        series = reports.usage_series(
            usage_ledger, self.vo_map.vo_for_project,
            authorizer.visible_for(policy.USAGE_READ), period,
            step=step, by=by, max_points=self.conf.accounting_api.max_points)
        recorded = usage_ledger.first_started_at()
        return dict(period.as_dict(), step=step, by=by,
                    vo_map_size=len(self.vo_map.as_dict()),
                    recorded_since=recorded and recorded.isoformat(),
                    series=[{'key': key,
                             'points': [p.as_dict() for p in points]}
                            for key, points in series.items()])

    def records(self, query, authorizer):
        period = self._period(query)
        usage_ledger, state_ledger = self.ledgers.get()
        body = reports.instance_records(
            usage_ledger, state_ledger, self.vo_map.vo_for_project,
            authorizer.visible_for(policy.RECORDS_READ), period)
        body.update(period.as_dict())
        return body

    def queue(self, query, authorizer):
        if not authorizer.allowed(policy.QUEUE_READ):
            raise PermissionError(
                'reading the outgoing APEL queue needs %s (site admins by '
                'default)' % policy.QUEUE_READ)
        _usage, state_ledger = self.ledgers.get()
        return reports.queue_state(
            self.conf[accounting_conf.SSM_GROUP].output_path, state_ledger)


def register_opts(conf):
    accounting_conf.register_opts(conf)
    api_conf.register_opts(conf)


def build_app(conf, vo_map, ledgers=None, enforcer=None, now=None):
    """Return the WSGI application: ``auth_token`` over :class:`UsageAPI`.

    ``auth_token`` reads ``[keystone_authtoken]`` from ``conf``.
    """
    ledgers = ledgers or Ledgers(conf.accounting.ledger_connection)
    app = UsageAPI(conf, vo_map, ledgers, enforcer=enforcer, now=now)
    return auth_token.AuthProtocol(app, {'oslo_config_config': conf})

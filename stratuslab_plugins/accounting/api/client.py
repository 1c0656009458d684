"""A client of the usage API, for Horizon and ``openstack accounting``.

Calls go through a keystoneauth1 session (retries, TLS, token headers are
its job), either found in the catalog (service type ``accounting``) or at
an explicit endpoint::

    client = UsageClient(session, endpoint='https://acc.example.org:8779')
    client.usage(since='2026-11-01', step='day', by='vo')

Errors come back as :class:`APIError` with the API's own message, which
names what to configure. :func:`series_totals` sums a series the way
every caller must: unknown CPU time stays unknown.
"""

import typing

from keystoneauth1 import exceptions as ks_exceptions

from stratuslab_plugins.accounting import exceptions

SERVICE_TYPE = 'accounting'


class APIError(exceptions.AccountingError):
    """The usage API refused a request or could not be reached."""

    def __init__(self, message, status=None):
        self.status = status
        super().__init__(message)


class UsageClient:
    """Read the usage API.

    :param session: a keystoneauth1 session whose auth gives the caller's
        token.
    :param endpoint: the API's base URL; None to look it up in the
        catalog as service type ``accounting``.
    """

    def __init__(self, session, endpoint=None, interface='public',
                 region_name=None):
        self.session = session
        self.endpoint = endpoint.rstrip('/') if endpoint else None
        self.filter = {'service_type': SERVICE_TYPE, 'interface': interface,
                       'region_name': region_name}

    def _get(self, resource, params):
        params = {k: v for k, v in params.items() if v is not None}
        kwargs = ({'endpoint_override': self.endpoint} if self.endpoint
                  else {'endpoint_filter': self.filter})
        try:
            response = self.session.get('/v1/' + resource, params=params,
                                        raise_exc=False, **kwargs)
        except ks_exceptions.EndpointNotFound:
            raise APIError('no usage API in the catalog: register the '
                           'service type %r or configure its URL'
                           % SERVICE_TYPE)
        except ks_exceptions.ConnectFailure as exc:
            raise APIError('the usage API at %s cannot be reached: %s'
                           % (self.endpoint or SERVICE_TYPE, exc))
        try:
            body = response.json()
        except ValueError:
            body = {'error': response.text[:200]}
        if response.status_code != 200:
            raise APIError('usage API: HTTP %d: %s' % (
                response.status_code, body.get('error', body)),
                status=response.status_code)
        return body

    def usage(self, since=None, until=None, step='day', by='vo'):
        return self._get('usage', {'since': since, 'until': until,
                                   'step': step, 'by': by})

    def records(self, since=None, until=None):
        return self._get('records', {'since': since, 'until': until})

    def queue(self):
        return self._get('queue', {})


class Totals(typing.NamedTuple):
    """A usage series summed over its buckets.

    :param cpu_hours: of the instances whose CPU time is known; None when
        no instance's is.
    :param cpu_unknown: instance-buckets whose CPU time is unknown.
    :param partial: the last bucket was still running when the API
        answered: its hours will grow.
    """

    wall_hours: float
    cpu_hours: typing.Optional[float]
    cpu_unknown: int
    partial: bool


def series_totals(series):
    """Return the :class:`Totals` of one item of ``/v1/usage``'s series.

    Unknown CPU time stays unknown: it is never summed as 0.
    """
    points = series['points']
    known = sum(p.get('cpu_known', 0) for p in points)
    unknown = sum(p.get('cpu_unknown', 0) for p in points)
    cpu = sum(p['cpu_hours'] for p in points if p['cpu_hours'] is not None)
    return Totals(round(sum(p['wall_hours'] for p in points), 2),
                  None if unknown and not known else round(cpu, 2),
                  unknown, any(p.get('partial') for p in points))

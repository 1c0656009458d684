"""``openstack accounting`` commands: the records and usage, live.

::

    openstack accounting record list [--since 2026-11-01] [--until ...] \\
        [--project PROJECT_ID ...] [--extractor nova]
    openstack accounting usage --by vo|project --since 2026-11-01 \\
        [--until 2026-12-01]

Both run the accounting's extractors with the credentials of the
``openstack`` command itself (an admin, or a user with the roles the
README lists) and hand nothing to any messenger: they show what the next
``stratuslab-accounting publish`` would report, and never move its
windows. ``record list`` prints the records as the repository would read
them; ``usage`` sums, per VO or project, the wall hours, vCPU hours and
measured CPU hours that fall inside ``[since, until]`` (see
``stratuslab_plugins.accounting.summary``).

The site settings come from the accounting's configuration file when
``--config-file`` is given (or ``OS_ACCOUNTING_CONFIG_FILE`` is set),
otherwise from the option defaults; the project-to-VO map from Keystone
(``[grid] vo_project_property``) and the mapping file it names.

When the usage API (``stratuslab-accounting-api``) is configured with
``--os-accounting-api-url`` (or ``OS_ACCOUNTING_API_URL``; the value
``catalog`` finds it in the Keystone catalog as service type
``accounting``), both commands read it instead: the ledger's exact usage,
within what the API's policy lets the caller see, and ``record list``
shows each instance's send state.

This module is also the OSC plugin of those commands (entry point
``openstack.cli.extension``: ``accounting``; commands in
``openstack.accounting.v1``).
"""

import datetime

from osc_lib.command import command
from osc_lib import exceptions as osc_exceptions
from oslo_config import cfg

from stratuslab_plugins.accounting.api import client as api_client
from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting import loading
from stratuslab_plugins.accounting import manager as manager_mod
from stratuslab_plugins.accounting import messages
from stratuslab_plugins.accounting import summary
from stratuslab_plugins.cmd import accounting as cmd_accounting
from stratuslab_plugins.conf import accounting as accounting_conf
from stratuslab_plugins.conf import grid as grid_conf
from stratuslab_plugins.osc import options

# -- OSC plugin interface ------------------------------------------------

API_NAME = 'accounting'
API_VERSION_OPTION = 'os_accounting_api_version'
DEFAULT_API_VERSION = '1'
API_VERSIONS = ('1',)

UTC = datetime.timezone.utc


class AccountingClient:
    """What the commands use: OSC's authenticated session and a config.

    :param session: the keystoneauth1 session of the ``openstack`` run.
    :param region_name: OSC's ``--os-region-name``.
    :param config_file: an accounting configuration file, or None.
    """

    def __init__(self, session, region_name=None, config_file=None,
                 api_url=None):
        self.session = session
        self.region_name = region_name
        self.config_file = config_file
        # -- usage API (issue 10): set when the commands read the API.
        self.api_url = api_url

    def usage_api(self):
        """Return the usage API client, or None to extract live."""
        if not self.api_url:
            return None
        return api_client.UsageClient(
            self.session,
            endpoint=None if self.api_url == 'catalog' else self.api_url,
            region_name=self.region_name)

    def conf(self):
        conf = cfg.ConfigOpts()
        grid_conf.register_opts(conf)
        accounting_conf.register_opts(conf)
        files = [self.config_file] if self.config_file else []
        conf([], project='stratuslab', default_config_files=files,
             default_config_dirs=[])
        return conf


def make_client(instance):
    """Return the :class:`AccountingClient` for an OSC ClientManager."""
    options = getattr(instance, '_cli_options', None)
    config = getattr(options, 'config', None) or {}
    return AccountingClient(instance.session,
                            region_name=instance.region_name,
                            config_file=config.get('accounting_config_file'),
                            api_url=config.get('accounting_api_url'))


def build_option_parser(parser):
    """Add the accounting options to OSC's global parser."""
    options.add_env_option(
        parser, '--os-accounting-api-version', metavar='<version>',
        help='Accounting commands version, default=%s' % DEFAULT_API_VERSION)
    options.add_env_option(
        parser, '--os-accounting-config-file', metavar='<file>',
        help='The stratuslab-accounting configuration file whose [grid] '
             'and [accounting] options (site name, VO property, mapping '
             'file) the commands use')
    # -- usage API (issue 10)
    options.add_env_option(
        parser, '--os-accounting-api-url', metavar='<url>|catalog',
        help='Read usage and records from stratuslab-accounting-api at '
             'this URL ("catalog": the catalog\'s accounting service) '
             'instead of extracting them live')
    return parser


# -- commands ------------------------------------------------------------

_RECORD_COLUMNS = ('VMUUID', 'MachineName', 'LocalGroupId', 'FQAN',
                   'GlobalUserName', 'Status', 'StartTime', 'EndTime',
                   'WallDuration', 'CpuDuration', 'CpuCount', 'Memory',
                   'Benchmark')


def _start_of_month(now):
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class _AccountingCommand(command.Lister):
    """Shared options and the live, messenger-less extraction."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--since', metavar='<time>',
            help='ISO 8601 start (UTC when no offset); default: the start '
                 'of the current month')
        parser.add_argument(
            '--until', metavar='<time>',
            help='ISO 8601 end; default: now')
        parser.add_argument(
            '--project', metavar='<project-id>', action='append',
            dest='projects', help='Only this project (repeat for more)')
        parser.add_argument(
            '--extractor', metavar='<name>', action='append',
            dest='extractors',
            help='Extractor to run (repeatable); default: those of the '
                 'configuration ([accounting] extractors)')
        return parser

    def window(self, parsed_args):
        try:
            until = cmd_accounting.parse_time(parsed_args.until, '--until')
            since = cmd_accounting.parse_time(parsed_args.since, '--since')
        except exceptions.AccountingError as exc:
            raise osc_exceptions.CommandError(str(exc))
        until = until or datetime.datetime.now(UTC)
        return since or _start_of_month(until), until

    def manager(self, parsed_args):
        client = self.app.client_manager.accounting
        conf = client.conf()
        names = parsed_args.extractors or conf.accounting.extractors
        if client.region_name and not conf.accounting.regions:
            conf.set_override('regions', [client.region_name], 'accounting')
        try:
            extractors = loading.extractor_classes(names)
            context = manager_mod.record_context(conf, client.session)
            return manager_mod.Manager(conf, extractors, [], None, context,
                                       client.session)
        except exceptions.AccountingError as exc:
            raise osc_exceptions.CommandError(str(exc))

    def records(self, parsed_args):
        """Yield every record of the window, VO-less projects included."""
        since, until = self.window(parsed_args)
        manager = self.manager(parsed_args)
        try:
            for region in manager.regions():
                for plugin in manager.extractors.values():
                    extractor = plugin(manager.conf, manager.session, region)
                    for record in extractor.extract(
                            since, until, manager.context,
                            parsed_args.projects):
                        yield from manager_mod.expand(record)
        except exceptions.AccountingError as exc:
            raise osc_exceptions.CommandError(str(exc))


# -- usage API (issue 10) ---------------------------------------------

# wall_hours and cpu_hours are within the period asked for; the
# lifetime_* columns are the instance's whole life to the period's end.
# Unknown CPU time stays None: empty in CSV, "None" in a table.
_API_RECORD_COLUMNS = ('uuid', 'name', 'project_id', 'vo', 'status',
                       'started_at', 'ended_at', 'wall_hours', 'cpu_hours',
                       'lifetime_wall_hours', 'lifetime_cpu_hours',
                       'send_state')


def _from_api(call, **kwargs):
    try:
        return call(**kwargs)
    except exceptions.AccountingError as exc:
        raise osc_exceptions.CommandError(str(exc))


def _iso(value):
    return value.isoformat() if value else None


class ListRecord(_AccountingCommand):
    """List the accounting records the cloud's usage gives now."""

    def take_action(self, parsed_args):
        api = self.app.client_manager.accounting.usage_api()
        if api is not None:
            since, until = self.window(parsed_args)
            body = _from_api(api.records, since=_iso(since),
                             until=_iso(until))
            return _API_RECORD_COLUMNS, [
                tuple(r.get(c) for c in _API_RECORD_COLUMNS)
                for r in body['records']
                if not parsed_args.projects
                or r['project_id'] in parsed_args.projects]
        rows = []
        for record in self.records(parsed_args):
            if record.kind != 'cloud':
                continue
            fields = dict(messages.cloud_fields(record))
            rows.append(tuple(fields.get(c) for c in _RECORD_COLUMNS))
        return _RECORD_COLUMNS, rows


class ShowUsage(_AccountingCommand):
    """Sum wall and CPU hours over a period, by VO or by project."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--by', choices=('vo', 'project'), default='vo',
            help='Group by VO (default) or by project')
        return parser

    def take_action(self, parsed_args):
        since, until = self.window(parsed_args)
        api = self.app.client_manager.accounting.usage_api()
        if api is not None:
            body = _from_api(api.usage, since=_iso(since), until=_iso(until),
                             step='month', by=parsed_args.by)
            # "Until": the API stops at the time of the request.
            columns = ('VO' if parsed_args.by == 'vo' else 'Project',
                       'Wall hours', 'CPU hours',
                       'Without CPU time (server-months)',
                       'Until')
            rows = []
            for series in body['series']:
                totals = api_client.series_totals(series)
                rows.append((series['key'], totals.wall_hours,
                             totals.cpu_hours, totals.cpu_unknown,
                             body['until']))
            return columns, rows
        rows = summary.summarise(self.records(parsed_args), parsed_args.by,
                                 since, until)
        columns = ('VO' if parsed_args.by == 'vo' else 'Project', 'Servers',
                   'Wall hours', 'vCPU hours', 'CPU hours',
                   'Servers with CPU time')
        return columns, [
            (r.key, r.servers, round(r.wall_hours, 2),
             round(r.vcpu_hours, 2),
             round(r.cpu_hours, 2) if r.cpu_known else None, r.cpu_known)
            for r in rows]

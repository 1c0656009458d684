"""``openstack appliance subscription list|show|sync``.

The operator's view of the appliance sync: what each VO is subscribed
to, and a sync (or a dry run of one) with the operator's own cloud
credentials, one row per action::

    openstack appliance subscription list
    openstack appliance subscription show vo.example.org
    openstack appliance subscription sync --vo vo.example.org --dry-run

The subscriptions file is ``--file``, or ``$STRATUSLAB_APPLIANCE_
SUBSCRIPTIONS``, or the default of ``[sync] subscriptions_file``.
``list`` and ``show`` read only that file; ``sync`` exits 1 when a
source or an action failed, and needs an admin with the ``service``
role (see ``stratuslab_plugins.image.sync``). VOs whose subscription
lists no project are shared with the projects whose
Keystone property (``--vo-property``, default ``egi.VO``) names them.
"""

import os

from osc_lib.cli import format_columns
from osc_lib.command import command
from osc_lib import exceptions as osc_exceptions

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import subscriptions as subscriptions_mod
from stratuslab_plugins.appliance.sync import runner
from stratuslab_plugins.conf import sync as sync_conf
from stratuslab_plugins.grid import vo_map

FILE_ENV = 'STRATUSLAB_APPLIANCE_SUBSCRIPTIONS'
LIST_COLUMNS = ('VO', 'Sources', 'Mode', 'Visibility', 'Projects', 'Tag')
SYNC_COLUMNS = ('VO', 'Action', 'Image', 'Reason', 'Result')


def _default_file():
    return os.environ.get(FILE_ENV) or sync_conf.sync_opts[0].default


def _projects(subscription):
    return (format_columns.ListColumn(subscription.projects)
            if subscription.projects is not None else 'VO map')


class _SubscriptionCommand:
    """Reads the file; appliance errors become CLI errors."""

    auth_required = False

    def add_file_argument(self, parser):
        parser.add_argument(
            '--file', metavar='<path>', default=_default_file(),
            help='subscriptions file (default: $%s or %s)'
            % (FILE_ENV, sync_conf.sync_opts[0].default))
        return parser

    def take_action(self, parsed_args):
        try:
            return self.act(parsed_args)
        except exceptions.ApplianceError as error:
            raise osc_exceptions.CommandError(str(error)) from None

    def load(self, parsed_args):
        return subscriptions_mod.load(parsed_args.file)


class ListSubscription(_SubscriptionCommand, command.Lister):
    """List the VOs' appliance subscriptions."""

    def get_parser(self, prog_name):
        return self.add_file_argument(super().get_parser(prog_name))

    def act(self, parsed_args):
        subscriptions = self.load(parsed_args)
        return LIST_COLUMNS, [
            (s.vo, format_columns.ListColumn(
                [source.label for source in s.sources]),
             s.mode if s.mode == 'location' else 'import to ' + s.store,
             s.visibility, _projects(s), s.tag)
            for s in subscriptions_mod.select(subscriptions)]


class ShowSubscription(_SubscriptionCommand, command.ShowOne):
    """Show one VO's subscription, as the sync reads it."""

    def get_parser(self, prog_name):
        parser = self.add_file_argument(super().get_parser(prog_name))
        parser.add_argument('vo', metavar='<vo>', help='the VO')
        return parser

    def act(self, parsed_args):
        s, = subscriptions_mod.select(self.load(parsed_args),
                                      [parsed_args.vo])
        policy = s.policy
        row = {
            'vo': s.vo,
            'sources': format_columns.ListColumn(
                [source.label for source in s.sources]),
            'ca_path': s.ca_path,
            'mode': s.mode,
            'store': s.store or '',
            'visibility': s.visibility,
            'projects': _projects(s),
            'disk_formats': format_columns.ListColumn(
                s.disk_formats or ['any']),
            'tag': s.tag,
            'on_replace': s.on_replace,
            'grace_period_hours': s.grace_period,
            'trusted_endorsers': format_columns.ListColumn(
                policy.allowed_endorsers or ['any not denied']),
            'denied_endorsers': format_columns.ListColumn(
                policy.denied_endorsers),
            'require_signature': policy.require_signature,
        }
        return tuple(zip(*sorted(row.items())))


class SyncSubscription(_SubscriptionCommand, command.Lister):
    """Sync the VOs' appliances into Glance now, or show what would change."""

    auth_required = True

    def get_parser(self, prog_name):
        parser = self.add_file_argument(super().get_parser(prog_name))
        parser.add_argument('--vo', action='append', default=[],
                            metavar='<vo>',
                            help='sync only this VO (repeatable)')
        parser.add_argument('--dry-run', action='store_true',
                            help='verify and plan, change nothing')
        parser.add_argument('--vo-property', metavar='<name>',
                            default='egi.VO',
                            help='Keystone project property naming the VO '
                            '(default egi.VO; cASO uses VO)')
        return parser

    def run(self, parsed_args):
        """Print one row per action; exit 1 when anything failed.

        A cron job or a script must see a failed source or action without
        parsing the table, as with ``stratuslab-appliance-sync``.
        """
        self.failed = False
        status = super().run(parsed_args)
        return status or (1 if self.failed else 0)

    def _connection(self):
        import openstack.connection

        manager = self.app.client_manager
        return openstack.connection.Connection(
            session=manager.session, region_name=manager.region_name,
            image_interface=manager.interface)

    def act(self, parsed_args):
        from stratuslab_plugins.image import sync as glance_sync

        chosen = subscriptions_mod.select(self.load(parsed_args),
                                          parsed_args.vo)
        vos = None
        if any(s.projects is None for s in chosen):
            vos = vo_map.VOMap(vo_map.fetch_from_keystone(
                self.app.client_manager.session, parsed_args.vo_property))
        syncer = runner.Synchronizer(
            glance_sync.GlanceCatalog(self._connection()),
            self.app.client_manager.appliance.client_for, vo_map=vos,
            dry_run=parsed_args.dry_run)
        reports = syncer.run(chosen)
        self.failed = not all(report.ok for report in reports)
        rows = []
        for report in reports:
            if report.error:
                rows.append((report.vo, 'none', '', report.error,
                             'source failed'))
            failed = {id(action): error for action, error in report.failed}
            for action in report.planned:
                result = ('planned' if report.dry_run else
                          'failed: ' + failed[id(action)]
                          if id(action) in failed else 'done')
                rows.append((report.vo, action.kind,
                             action.image_id or action.args.get('name', ''),
                             action.reason, result))
        return SYNC_COLUMNS, rows

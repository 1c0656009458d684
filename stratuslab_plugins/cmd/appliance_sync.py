"""``stratuslab-appliance-sync``: keep each VO's appliances in Glance.

Run from cron or a systemd timer (every few hours, as EGI sites run
atrope)::

    stratuslab-appliance-sync --config-file /etc/stratuslab/sync.conf
    stratuslab-appliance-sync ... --dry-run            # print the plan
    stratuslab-appliance-sync ... --vo vo.example.org  # one VO (repeatable)

Reads ``[sync] subscriptions_file``, verifies every source, and applies
to Glance what differs (see ``stratuslab_plugins.appliance.sync``). It
prints one line per VO (with its wall time, the sync's own CPU time per
appliance and the bytes fetched to adopt plain files into the site's
registry), then one per action; while a file is adopted, its progress (a
bar on a terminal, else a line at every tenth).

Exit status: 0 when every VO synced, 1 when a source failed verification
or an action failed (the others went ahead; the next run retries), 2 on
a configuration error.
"""

import sys
import threading

from oslo_config import cfg
from oslo_log import log as logging
import tqdm

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance import subscriptions as subscriptions_mod
from stratuslab_plugins.appliance.sync import runner
from stratuslab_plugins import cmd
from stratuslab_plugins.conf import appliance as appliance_conf
from stratuslab_plugins.conf import grid as grid_conf
from stratuslab_plugins.conf import keystone as keystone_conf
from stratuslab_plugins.conf import sync as sync_conf
from stratuslab_plugins.grid import exceptions as grid_exceptions
from stratuslab_plugins.grid import vo_map

PROG = 'stratuslab-appliance-sync'
LOG = logging.getLogger(__name__)

cli_opts = [
    cfg.BoolOpt('dry-run', default=False,
                help='read and verify the sources, print what would '
                'change, change nothing'),
    cfg.MultiStrOpt('vo', default=[],
                    help='sync only this VO (repeatable); default: every '
                    'VO of the subscriptions file'),
]


def load_config(argv):
    return cmd.load_config(argv, PROG, (grid_conf, appliance_conf, sync_conf),
                           cli_opts, doc=__doc__)


def connect(conf):
    """Return the openstacksdk Connection of ``[sync_keystone]``."""
    import openstack.connection

    group = sync_conf.KEYSTONE_GROUP
    session, _auth = keystone_conf.load_session(conf, group)
    if session is None:
        raise exceptions.InvalidInput(
            '[%s] auth_type is not set: the sync needs credentials to '
            'write to Glance.' % group)
    opts = conf[group]
    return openstack.connection.Connection(
        session=session, region_name=opts.region_name,
        image_endpoint_override=opts.endpoint_override,
        image_interface=(opts.valid_interfaces or ['public'])[0])


class RegistryClients:
    """One registry client per registry URL, for the whole run.

    The site's own registry (``[appliance] registry_url``) gets the
    configured credentials and TLS settings; any other is read
    anonymously, so credentials never go where they were not meant to.
    """

    def __init__(self, conf):
        self.conf = conf
        self._clients = {}
        self._lock = threading.Lock()

    def __call__(self, url):
        url = url.rstrip('/')
        with self._lock:
            if url not in self._clients:
                own = (self.conf.appliance.registry_url or '').rstrip('/')
                self._clients[url] = (registry.client_from_conf(self.conf)
                                      if url == own else
                                      registry.RegistryClient(url))
            return self._clients[url]

    def close(self):
        for client in self._clients.values():
            client.close()


class Progress:
    """The progress of the files the sync adopts, on the console.

    Called with a label and a size, it returns the display of one file:
    a bar on stderr when stderr is a terminal, else a line to ``out`` at
    every tenth of the file (what cron mails and journals keep).
    Adoptions run side by side: lines are written whole.
    """

    STEPS = 10

    def __init__(self, out, terminal=None):
        self.out = out
        self.terminal = (sys.stderr.isatty() if terminal is None
                         else terminal)
        self.lock = threading.Lock()

    def __call__(self, label, total):
        if self.terminal:
            return _Bar(tqdm.tqdm(total=total, desc=label, unit='B',
                                  unit_scale=True, unit_divisor=1024,
                                  file=sys.stderr, leave=False))
        return _Lines(self, label, total)

    def write(self, line):
        with self.lock:
            self.out.write(line + '\n')


class _Bar:
    def __init__(self, bar):
        self.bar = bar

    def __call__(self, count):
        self.bar.update(count)

    def close(self):
        self.bar.close()


class _Lines:
    def __init__(self, progress, label, total):
        self.progress, self.label, self.total = progress, label, total
        self.done = 0
        self.shown = 0
        progress.write('  %s: %d bytes to fetch' % (label, total))

    def __call__(self, count):
        self.done += count
        step = self.done * Progress.STEPS // max(self.total, 1)
        if step > self.shown:
            self.shown = step
            self.progress.write('  %s: %d%%, %d of %d bytes' % (
                self.label, min(100, step * 100 // Progress.STEPS),
                self.done, self.total))

    def close(self):
        pass


def load_vo_map(conf, chosen):
    """The VO map, read only when a subscription lists no project."""
    if all(subscription.projects is not None for subscription in chosen):
        return None
    return vo_map.VOMap(vo_map.make_loader(conf)())


def print_reports(reports, out):
    for report in reports:
        out.write(report.summary() + '\n')
        failed = {id(action): error for action, error in report.failed}
        for action in report.planned:
            error = failed.get(id(action))
            out.write('  %s%s\n' % (action.describe(),
                                    ' FAILED: %s' % error if error else ''))
        for identifier, reason in sorted(report.rejected.items()):
            out.write('  rejected %s: %s\n' % (identifier, reason))
        for identifier, reason in sorted(report.skipped.items()):
            out.write('  skipped %s: %s\n' % (identifier, reason))


def run(conf, out, connection=None):
    """Sync the chosen VOs; return the exit status."""
    subscriptions = subscriptions_mod.load(conf.sync.subscriptions_file)
    chosen = subscriptions_mod.select(subscriptions, conf.vo)
    vos = load_vo_map(conf, chosen)
    from stratuslab_plugins.image import sync as glance_sync

    clients = RegistryClients(conf)
    try:
        syncer = runner.Synchronizer(
            glance_sync.GlanceCatalog(connection or connect(conf),
                                      workers=conf.sync.workers), clients,
            vo_map=vos, dry_run=conf.dry_run, workers=conf.sync.workers,
            progress=Progress(out))
        reports = syncer.run(chosen)
    finally:
        clients.close()
    print_reports(reports, out)
    return 0 if all(report.ok for report in reports) else 1


def main(argv=None, out=None, connection=None):
    """Entry point; ``connection`` replaces ``[sync_keystone]`` (tests)."""
    argv = sys.argv[1:] if argv is None else argv
    out = out or sys.stdout
    try:
        conf = load_config(argv)
    except cfg.Error as exc:
        sys.stderr.write('%s: %s\n' % (PROG, exc))
        return 2
    try:
        return run(conf, out, connection)
    except (exceptions.InvalidInput, grid_exceptions.GridError) as exc:
        LOG.error('%s', exc)
        return 2


if __name__ == '__main__':
    sys.exit(main())

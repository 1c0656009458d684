"""Plain-data helpers for the accounting unit tests."""

import datetime

from oslo_config import cfg

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting.extractors import base
from stratuslab_plugins.conf import accounting as accounting_conf
from stratuslab_plugins.conf import grid as grid_conf

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def make_conf(**groups):
    """Return a ``ConfigOpts`` with the accounting options, overridden."""
    conf = cfg.ConfigOpts()
    grid_conf.register_opts(conf)
    accounting_conf.register_opts(conf)
    conf([], project='stratuslab-test', default_config_files=[],
         default_config_dirs=[])
    for group, values in groups.items():
        for name, value in values.items():
            conf.set_override(name, value, group=group)
    conf.set_override('site_name', 'TEST-SITE', group='grid')
    return conf


def context(vos=None, users=None):
    vos = {'p1': 'vo.one', 'p2': 'vo.two'} if vos is None else vos
    users = {'u1': 'alice'} if users is None else users
    return builders.RecordContext(site_name='TEST-SITE',
                                  vo_for_project=vos.get,
                                  user_name_for=users.get)


def usages(count, project='p1', start=T0):
    for i in range(count):
        yield builders.ServerUsage(
            uuid='vm-%s-%04d' % (project, i), project_id=project,
            user_id='u1', name='vm %d' % i, status='ACTIVE',
            started_at=start, measured_at=start, vcpus=1, memory_mb=512,
            disk_gb=1)


class ListExtractor(base.Extractor):
    """Yields cloud records for ``SERVERS`` ({project: count}).

    ``FAIL_AFTER`` makes it raise after that many records, which is how a
    crash between extraction and hand-over is injected.
    """

    kinds = ('cloud',)
    service = 'Fake'
    SERVERS = {'p1': 150, 'p2': 30, 'p-novo': 5}
    FAIL_AFTER = None
    calls = []

    def extract(self, since, until, context, projects=None):
        type(self).calls.append((since, until, projects))
        count = 0
        for project, n in sorted(self.SERVERS.items()):
            if projects and project not in projects:
                continue
            for usage in usages(n, project):
                usage.measured_at = until
                if self.FAIL_AFTER is not None and count >= self.FAIL_AFTER:
                    raise RuntimeError('injected crash after %d records'
                                       % count)
                count += 1
                yield builders.build_cloud_record(usage, context)

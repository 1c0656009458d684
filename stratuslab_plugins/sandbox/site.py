"""The sandbox's grid site: the embedded defaults it starts from.

Two VOs share four worker nodes. Each VO has a dedicated aggregate; one
atlas node is in a declared downtime, one biomed node is lent to the batch
system and takes only preemptible work. Every value is plain data, written
with the contract names of :mod:`stratuslab_plugins.grid.keys`, so the
scenario reads like the ``openstack aggregate set`` commands a site admin
would type.
"""

import datetime

from stratuslab_plugins.grid import keys

SITE_NAME = 'SANDBOX-GRID-SITE'
VOS = ('atlas', 'biomed')

#: One Keystone-like project per VO (ids as Keystone writes them).
PROJECTS = {
    'atlas': '0a7b1c2d3e4f40a1b2c3d4e5f6a7b8c9',
    'biomed': '1b8c2d3e4f5041b2c3d4e5f6a7b8c9d0',
}

HOSTS = ('atlas-wn1', 'atlas-wn2', 'biomed-wn1', 'biomed-wn2')

NOVA_DEFAULT_FILTERS = (
    'ComputeFilter', 'ComputeCapabilitiesFilter', 'ImagePropertiesFilter',
    'ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter')
GRID_FILTERS = ('GridVOIsolationFilter', 'GridDowntimeFilter',
                'GridPartitionFilter', 'GridBenchmarkFilter')
FILTERS_IMPORT = 'stratuslab_plugins.scheduler.filters.all_filters'
WEIGHERS_IMPORT = 'stratuslab_plugins.scheduler.weighers.all_weighers'
NOVA_WEIGHERS_IMPORT = 'nova.scheduler.weights.all_weighers'


def _window(start, end):
    fmt = '%Y-%m-%dT%H:%M:%SZ'
    return '%s/%s' % (start.strftime(fmt), end.strftime(fmt))


def aggregates(now):
    """Return ``[(name, hosts, metadata)]``; the downtime is around ``now``."""
    downtime = _window(now - datetime.timedelta(hours=1),
                       now + datetime.timedelta(hours=3))
    return [
        ('atlas', ['atlas-wn1'], {
            keys.AGGREGATE_VOS: 'atlas',
            keys.AGGREGATE_HEPSCORE: '15.2',
            keys.AGGREGATE_FAILURE_DOMAIN: 'rack-1',
            keys.AGGREGATE_ENERGY_EFFICIENCY: '0.071',
            keys.AGGREGATE_PARTITION: keys.PARTITION_CLOUD,
        }),
        ('atlas-maintenance', ['atlas-wn2'], {
            keys.AGGREGATE_VOS: 'atlas',
            keys.AGGREGATE_HEPSCORE: '15.2',
            keys.AGGREGATE_FAILURE_DOMAIN: 'rack-2',
            keys.AGGREGATE_DOWNTIME: downtime,
        }),
        ('biomed', ['biomed-wn1'], {
            keys.AGGREGATE_VOS: 'biomed',
            keys.AGGREGATE_HEPSCORE: '11.8',
            keys.AGGREGATE_FAILURE_DOMAIN: 'rack-3',
            keys.AGGREGATE_PARTITION: keys.PARTITION_SHARED,
        }),
        ('biomed-batch', ['biomed-wn2'], {
            keys.AGGREGATE_VOS: 'biomed',
            keys.AGGREGATE_HEPSCORE: '11.8',
            keys.AGGREGATE_FAILURE_DOMAIN: 'rack-4',
            keys.AGGREGATE_PARTITION: keys.PARTITION_BATCH,
        }),
    ]


#: ``(name, vcpus, ram MB, disk GB, extra specs)``.
FLAVORS = (
    ('grid.small', 1, 512, 1, {
        keys.EXTRA_SPEC_MAX_LIFETIME: '86400',
    }),
    ('grid.preemptible', 1, 512, 1, {
        keys.EXTRA_SPEC_PREEMPTIBLE: 'true',
    }),
)

#: The servers the scenario boots: ``(name, vo, flavor)``.
SERVERS = (
    ('atlas-simulation-1', 'atlas', 'grid.small'),
    ('atlas-simulation-2', 'atlas', 'grid.small'),
    ('biomed-analysis', 'biomed', 'grid.small'),
    ('biomed-preemptible', 'biomed', 'grid.preemptible'),
    ('atlas-hostile-name', 'atlas', 'grid.small'),
)

#: Set on ``atlas-hostile-name`` through Nova's object layer: Nova's API
#: refuses unprintable names today, but older instances and other paths
#: carry them, and one such name once spoiled cASO's whole messages.
HOSTILE_NAME = 'evil\nname %% with \u00fcn\u00efc\u00f6de ' + 'x' * 300
SUSPENDED = ('atlas-simulation-2',)
DELETED = ('biomed-analysis',)


def vo_mapping():
    """The VO mapping file's content: ``{vo: [project ids]}``."""
    return {vo: [project] for vo, project in PROJECTS.items()}


#: Where Glance's ``appliance`` store puts the images uploaded through it.
GLANCE_REPOSITORY = 'sandbox/glance'
#: The appliance the scenario creates and endorses for atlas.
APPLIANCE_REFERENCE = 'atlas/ubuntu-worker:22.04'
APPLIANCE_FIELDS = {
    'title': 'Ubuntu 22.04 atlas worker node',
    'description': 'A small raw disk standing in for a VO worker image.',
    'disk_format': 'raw',
    'os': 'ubuntu',
    'os_version': '22.04',
    'arch': 'x86_64',
    'vos': ['atlas'],
    'file_name': 'ubuntu-worker-22.04.raw',
}
APPLIANCE_SIZE = 4 * 1024 * 1024

#: GlobalUserName by user id; the sandbox has no Keystone to ask.
USER_NAMES = {'grid-user': '/DC=org/DC=sandbox/CN=Grid User'}


def appliance_image(size=APPLIANCE_SIZE):
    """Return the appliance's disk image: deterministic bytes, any size."""
    block = bytes(range(256)) * 4096
    return (block * (size // len(block) + 1))[:size]

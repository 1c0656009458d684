"""Options of the scheduler pillar, in ``[grid_scheduler]`` of nova.conf.

The filters and weighers run inside nova-scheduler and read these from
Nova's own configuration; the VO map they use reads ``[grid]`` and
``[grid_keystone]`` (see ``conf/grid.py``).
"""

from oslo_config import cfg

from stratuslab_plugins.grid import keys
from stratuslab_plugins.grid import values
from stratuslab_plugins.grid import watched_file

GROUP = 'grid_scheduler'

filter_opts = [
    cfg.BoolOpt(
        'allow_unmapped_on_dedicated',
        default=False,
        help="""
Let requests with no VO land on hosts dedicated to VOs.

``GridVOIsolationFilter`` keeps hosts of aggregates with ``grid_vos`` for
those VOs. A request whose flavor, hints and project name no VO is, by
default, kept off such hosts too, so that untagged projects cannot use
capacity a VO paid for. Set this to true on sites that dedicate hosts to
VOs only to keep the VOs apart, and let anyone else fill the gaps.

Possible values:
    * false (default): requests without a VO go to undedicated hosts only.
    * true: requests without a VO may go anywhere.

Related options:
    * ``[grid] vo_project_property``, ``[grid] vo_mapping_file``
"""),
    cfg.StrOpt(
        'downtime_file',
        help="""
Path of a file of host downtimes, re-read whenever it changes.

``GridDowntimeFilter`` merges its windows with the aggregates'
``grid_downtime``. Three formats are recognised by the first character:
GOCDB's ``get_downtime`` XML (``<``), JSON (``[`` or ``{``, a list of
objects with ``HOSTNAME``, ``SEVERITY``, ``START_DATE``, ``END_DATE``), or
text lines ``HOSTNAME START/END[;START/END]`` in ISO 8601. Only ``OUTAGE``
downtimes count. A cron job can save GOCDB's answer here. A file that
turns unreadable, malformed or larger than ``site_file_max_bytes`` leaves
the last good content in force, with one warning.

Possible values:
    * A path, or unset for aggregate downtimes only.

Related options:
    * ``downtime_site_endpoints``
    * ``site_file_max_bytes``
"""),
    cfg.ListOpt(
        'downtime_site_endpoints',
        default=[],
        help="""
GOCDB host names whose downtimes apply to every compute host.

GOCDB records downtimes against service endpoints (the cloud's Nova or
Keystone endpoint), not against compute hosts. A downtime of one of these
names keeps every host from receiving instances that would still run when
it starts; downtimes of other names apply to the compute host of that name
(full or short name, case-insensitive).

Possible values:
    * A comma-separated list of host names, e.g. ``cloud.example.org``.

Related options:
    * ``downtime_file``
"""),
    cfg.StrOpt(
        'partition_status_file',
        help="""
Path of the status file the batch system writes, re-read when it changes.

JSON or YAML ``{"hosts": {HOSTNAME: STATE}}`` where STATE is ``batch``,
``draining``, ``cloud`` or ``shared``. For the hosts it lists it wins over
the aggregates' ``grid_partition``: a ``batch`` host takes only preemptible
requests, a ``draining`` host takes all and is weighed by
``GridDrainWeigher``. See the README for mapping HTCondor and Slurm node
states.

Possible values:
    * A path, or unset to rely on ``grid_partition`` alone.

Related options:
    * ``drain_weight_multiplier``
    * ``site_file_max_bytes``
"""),
    cfg.IntOpt(
        'site_file_max_bytes',
        default=watched_file.DEFAULT_MAX_BYTES,
        min=1,
        help="""
Largest downtime or status file the scheduler reads, in bytes.

A larger file is refused from its size, before it is read, with one
warning, and the file's last good content stays in force. Parsing takes
several times a file's size in memory (up to about 25 times for JSON and
50 for YAML), so this cap is what bounds the memory a site file can cost
nova-scheduler. The default (2 MiB) holds GOCDB's downtimes of a site
many times over, or the state of 50,000 hosts.

Possible values:
    * A number of bytes of at least 1.

Related options:
    * ``downtime_file``
    * ``partition_status_file``
"""),
    cfg.FloatOpt(
        'benchmark_tolerance',
        default=0.1,
        min=0.0,
        help="""
How far a host's benchmark may be from the one a flavor quotes.

When a flavor carries ``accounting:benchmark_value`` (the value the
accounting writes into usage records), ``GridBenchmarkFilter`` keeps only
hosts whose ``grid_hepscore`` lies within this fraction of it, so that the
records stay true. 0.1 accepts hosts within 10 %. A value that is not
finite (nan, inf) is ignored with a warning, and the default applies.

Possible values:
    * A fraction of zero or more; 0 requires the exact value.

Related options:
    * none
"""),
]


#: The multipliers' default, also what a non-finite multiplier falls back to.
DEFAULT_WEIGHT_MULTIPLIER = 1.0


def _multiplier(name, key, weigher, what):
    return cfg.FloatOpt(
        name,
        default=DEFAULT_WEIGHT_MULTIPLIER,
        help="""
Multiplier of ``%(weigher)s``.

%(what)s A negative value reverses the preference. Overridden per
aggregate by the metadata key ``%(key)s``, as Nova's own weighers are. A
value that is not finite (nan, inf) or beyond %(max)g either way is
ignored with a warning, here (the default, %(default)s, applies) and in
the aggregate key (the option applies).

Possible values:
    * A float from -%(max)g to %(max)g; 0 disables the weigher.

Related options:
    * ``[filter_scheduler] weight_classes``
""" % dict(weigher=weigher, key=key, what=what, max=values.MAX_MULTIPLIER,
           default=DEFAULT_WEIGHT_MULTIPLIER))


weigher_opts = [
    _multiplier(
        'energy_weight_multiplier', keys.AGGREGATE_ENERGY_WEIGHT_MULTIPLIER,
        'GridEnergyWeigher',
        'Positive values pack instances onto busy powered-on hosts with the '
        'best\nHEPscore per watt, and put hosts in standby last.'),
    _multiplier(
        'benchmark_weight_multiplier',
        keys.AGGREGATE_BENCHMARK_WEIGHT_MULTIPLIER, 'GridBenchmarkWeigher',
        'Positive values prefer hosts with the higher per-core HEPscore23.'),
    _multiplier(
        'resilience_weight_multiplier',
        keys.AGGREGATE_RESILIENCE_WEIGHT_MULTIPLIER, 'GridResilienceWeigher',
        'Positive values spread the instances of one VO across failure\n'
        'domains (``grid_failure_domain``).'),
    _multiplier(
        'drain_weight_multiplier', keys.AGGREGATE_DRAIN_WEIGHT_MULTIPLIER,
        'GridDrainWeigher',
        'Positive values fill hosts the batch system is draining first (the\n'
        'cloud takes them over); negative values spare them, so they can\n'
        'return to batch.'),
]


def default(name):
    """Return the default of the ``[grid_scheduler]`` option ``name``."""
    return next(opt.default for opt in filter_opts + weigher_opts
                if opt.name == name)


def register_opts(conf):
    """Register this area's options on ``conf``."""
    conf.register_opts(filter_opts + weigher_opts, group=GROUP)


def list_opts():
    return [(GROUP, filter_opts + weigher_opts)]

"""Options of the grid site itself, shared by every pillar.

The site name goes into every accounting record; the project-to-VO map is
read by the scheduler filters and by the accounting alike, so both read
the same options from the ``[grid]`` group.
"""

from oslo_config import cfg

from stratuslab_plugins.conf import keystone

GROUP = 'grid'

# Credentials the VO map uses to list Keystone projects. A group of its own:
# the scheduler runs inside nova-scheduler, whose ``[keystone]`` group
# already holds Nova's own identity settings.
KEYSTONE_GROUP = 'grid_keystone'
KEYSTONE_GROUP_HELP = """
Credentials and endpoint used to read the project-to-VO map from Keystone.

The user needs a role that may list projects (``reader`` on the system
scope, or ``admin``). Any keystoneauth1 plugin works; ``password`` is
typical::

    [grid_keystone]
    auth_type = password
    auth_url = https://keystone.example.org:5000/v3
    username = stratuslab
    password = secret
    user_domain_name = Default
    system_scope = all
    valid_interfaces = internal

Leave ``auth_type`` unset to build the map from ``[grid]
vo_mapping_file`` alone.
"""

grid_opts = [
    cfg.StrOpt(
        'site_name',
        default='EXAMPLE-SITE',
        help="""
Name of this grid site, as registered in the federation's site database.

The accounting writes it into every record (``SiteName``), and the EGI
repository files usage under it. Use the exact name from GOCDB.

Possible values:
    * A GOCDB site name, for example ``CESGA-CLOUD``.

Related options:
    * ``[accounting] cloud_compute_service``
"""),
    cfg.StrOpt(
        'vo_project_property',
        default='egi.VO',
        help="""
Name of the Keystone project property that names the project's VO.

The VO map is built from this property on every Keystone project. EGI's
documentation uses ``egi.VO``; cASO's default is ``VO``. Sites that
already run cASO can keep its property by setting ``VO`` here.

Possible values:
    * A Keystone project property name.

Related options:
    * ``vo_mapping_file``
    * ``vo_map_refresh_interval``
"""),
    cfg.StrOpt(
        'vo_mapping_file',
        help="""
Path of an optional file mapping VOs to projects.

JSON or YAML of the form ``{VO: [project id or name, ...]}``. Entries in
this file win over the Keystone property, so a site can map projects it
cannot tag in Keystone. Leave unset to rely on Keystone alone.

Possible values:
    * A path to a JSON or YAML file, or unset.

Related options:
    * ``vo_project_property``
"""),
    cfg.IntOpt(
        'vo_map_refresh_interval',
        default=300,
        min=10,
        help="""
Seconds between two refreshes of the project-to-VO map from Keystone.

The map is refreshed in the background, never on a scheduling request.
When Keystone cannot be reached the last good map stays in force.

Possible values:
    * An integer of at least 10.

Related options:
    * ``vo_project_property``
"""),
]


# The adapter options default to the identity service, so operators write
# only interface/region when they differ from the public one.
_KEYSTONE_DEFAULTS = {'service_type': 'identity',
                      'valid_interfaces': ['public'], 'version': '3'}


def register_opts(conf):
    conf.register_opts(grid_opts, group=GROUP)
    keystone.register_group(conf, KEYSTONE_GROUP, KEYSTONE_GROUP_HELP,
                            _KEYSTONE_DEFAULTS)


def list_opts():
    return [(GROUP, grid_opts),
            (KEYSTONE_GROUP, keystone.group_opts(_KEYSTONE_DEFAULTS))]

"""Options of the appliance sync (``stratuslab-appliance-sync``).

``[sync]`` names the subscriptions file and how hard the job works;
``[sync_keystone]`` holds the credentials it writes to Glance with. What
each VO wants is in the subscriptions file, not here (see
``stratuslab_plugins.appliance.subscriptions``); the registry the sync
reads with the site's credentials is ``[appliance] registry_url``, and
the project-to-VO map is ``[grid]``'s.
"""

from oslo_config import cfg

from stratuslab_plugins.conf import keystone

GROUP = 'sync'
KEYSTONE_GROUP = 'sync_keystone'
KEYSTONE_GROUP_HELP = """
Credentials and endpoint the appliance sync uses to write to Glance.

The user needs the ``admin`` role in its project (to list every image,
share images and accept the shares on behalf of the VO's projects) and,
in ``location`` mode, the ``service`` role, which Glance 33 requires to
add a location of a store other than ``http``. Images are owned by this
project. The glance-api it reaches should run with ``[DEFAULT]
do_secure_hash = False``, or Glance reads every image it registers
(README, "Glance settings for registration by location"); point
``endpoint_override`` at a glance-api of its own where the public one
keeps Glance's default. Any keystoneauth1 plugin works::

    [sync_keystone]
    auth_type = password
    auth_url = https://keystone.example.org:5000/v3
    username = appliance-sync
    password = ...
    project_name = service
    user_domain_name = Default
    project_domain_name = Default
"""

sync_opts = [
    cfg.StrOpt(
        'subscriptions_file',
        default='/etc/stratuslab/appliance-subscriptions.yaml',
        help="""
Path of the YAML file listing each VO's appliance subscriptions.

Per VO: the sources (signed HEPiX image lists by URL or path, registry
projects with a tag pattern), the CA directory and trust policy that
verify them, the projects to share with, visibility, accepted disk
formats, the Glance tag of managed images, and the mode (``location`` or
``import``). ``etc/appliance-subscriptions.yaml.sample`` documents every
key.

Possible values:
    * An absolute path to a readable YAML file.

Related options:
    * ``[grid] vo_mapping_file`` and ``[grid_keystone]``: the VO map,
      used for VOs whose subscription lists no project.
"""),
    cfg.IntOpt(
        'workers',
        default=4,
        min=1,
        max=64,
        help="""
Number of Glance calls the sync has in flight at once.

Every change is a few Glance API round trips; working on several images
at once hides their latency when a list of hundreds of appliances is
first synced. The image calls run first (one image's in order, images
side by side), then the membership calls (each project's add and accept
in order, every image and project side by side), both on this many
threads. Glance's API workers share the calls: about twice their number
keeps them busy. Raise it for a remote Glance, lower it to spare a small
one.

Possible values:
    * An integer from 1 to 64.

Related options:
    * None.
"""),
]


# Operators write only interface/region when they differ from Glance's
# public endpoint.
_ADAPTER_DEFAULTS = {'service_type': 'image', 'valid_interfaces': ['public']}


def register_opts(conf):
    conf.register_opts(sync_opts, group=GROUP)
    keystone.register_group(conf, KEYSTONE_GROUP, KEYSTONE_GROUP_HELP,
                            defaults=_ADAPTER_DEFAULTS)


def list_opts():
    return [(GROUP, sync_opts),
            (KEYSTONE_GROUP, keystone.group_opts(_ADAPTER_DEFAULTS))]

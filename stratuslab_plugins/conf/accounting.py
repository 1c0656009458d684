"""Options of the accounting pillar.

``[accounting]`` says what a run extracts and where it sends it;
``[accounting_keystone]`` holds the credentials and endpoint settings of
the cloud it reads (keystoneauth1's own options); ``[accounting_ssm]`` and
``[accounting_json]`` configure the messengers of those names. The site
name and the project-to-VO map come from ``[grid]``.
"""

from oslo_config import cfg

from stratuslab_plugins.conf import keystone

GROUP = 'accounting'
KEYSTONE_GROUP = 'accounting_keystone'
SSM_GROUP = 'accounting_ssm'
JSON_GROUP = 'accounting_json'

accounting_opts = [
    cfg.ListOpt(
        'extractors',
        default=['nova'],
        help="""
Extractors a run reads usage with, by entry-point name.

Each name is a plugin of the ``stratuslab.accounting.extractors``
namespace: ``nova`` (VMs to cloud records), ``cinder`` (volumes to StAR
storage records), ``neutron`` (floating IPs to public-IP records, needs
``ip_records``).

Possible values:
    * A comma-separated list of extractor names.

Related options:
    * ``messengers``
    * ``ip_records``
"""),
    cfg.ListOpt(
        'messengers',
        default=['ssm'],
        help="""
Messengers every record is handed to, by entry-point name.

Each name is a plugin of the ``stratuslab.accounting.messengers``
namespace: ``ssm`` (the outgoing queue ``ssmsend`` reads), ``json`` (one
JSON document per record, for logstash or OpenSearch), ``noop``. The
extraction window moves forward only when every messenger listed here
accepted every record of the run.

Possible values:
    * A comma-separated list of messenger names.

Related options:
    * ``[accounting_ssm] output_path``
    * ``[accounting_json] output``
"""),
    cfg.StrOpt(
        'ledger_connection',
        default='sqlite:////var/lib/stratuslab/accounting.sqlite',
        secret=True,
        help="""
SQLAlchemy URL of the accounting ledger.

The ledger keeps the extraction window of every extractor, region and
site, and the log of the runs that were handed to the messengers. A
SQLite file by default; a MariaDB or PostgreSQL URL lets several hosts
share it.

Possible values:
    * ``sqlite:////absolute/path.sqlite``
    * ``mysql+pymysql://user:password@host/db``
    * ``postgresql+psycopg2://user:password@host/db``

Related options:
    * None
"""),
    cfg.StrOpt(
        'cloud_compute_service',
        help="""
Name of the cloud service written in every record (CloudComputeService).

EGI uses it to tell apart several clouds of one site. Leave unset when
the site runs one cloud.

Possible values:
    * A short service name, or unset.

Related options:
    * ``[grid] site_name``
"""),
    cfg.StrOpt(
        'cloud_type',
        default='OpenStack',
        help="""
Cloud middleware written in every record (CloudType).

Possible values:
    * A middleware name; EGI expects ``OpenStack`` for OpenStack sites.

Related options:
    * None
"""),
    cfg.StrOpt(
        'cpu_duration_fallback',
        default='none',
        choices=[('none', 'leave CpuDuration out unless measured'),
                 ('wall_x_vcpus', "wall time times vCPUs (cASO's value)")],
        help="""
What CpuDuration is when no source measured the VM's CPU time.

The Nova API knows no CPU time; the libvirt agent measures it. ``none``
leaves CpuDuration out of the record rather than invent it;
``wall_x_vcpus`` writes wall time times vCPUs, which is what cASO reports,
for sites that want continuity with their past records.

Possible values:
    * ``none``
    * ``wall_x_vcpus``

Related options:
    * None
"""),
    cfg.StrOpt(
        'user_name_attribute',
        default='name',
        help="""
Keystone user attribute written as the record's GlobalUserName.

The accounting reads each user once per run and writes this attribute;
when the attribute is missing on a user it falls back to the user's
name, so GlobalUserName is never empty for a user that exists. Federated
sites often store the EGI Check-in identifier in an extra attribute.

Possible values:
    * ``name`` or any attribute of the Keystone user (e.g. ``email``).

Related options:
    * None
"""),
    cfg.ListOpt(
        'regions',
        default=[],
        help="""
Regions whose services the run reads, one pass per region.

Empty means the region of ``[accounting_keystone] region_name`` (or the
only one). Each region keeps its own extraction window.

Possible values:
    * A comma-separated list of Keystone region names, or empty.

Related options:
    * ``[accounting_keystone] region_name``
"""),
    cfg.IntOpt(
        'first_run_lookback_days',
        default=31,
        min=0,
        help="""
How far back the first run looks for servers that ended.

Servers still running are reported by every run whatever the window; this
only bounds the first search for servers deleted or stopped before the
accounting was installed.

Possible values:
    * A number of days, 0 or more.

Related options:
    * ``first_publication_months``
"""),
    cfg.IntOpt(
        'first_publication_months',
        default=12,
        min=0,
        help="""
How many past months a VM's first publication books month by month.

The repository files a cloud record under the month it is measured in
and takes a VM's usage in a month as the difference from its previous
record. Each run therefore sends, before a VM's record, one record per
month end since the VM's previous record. At the first run of an
extraction window (no window stored in the ledger yet) a VM running for
months gets such records back to its start, but for at most this many
months before the current one; what lies further back is booked into
the oldest of them. 0 books a running VM's past into the current month,
as cASO does.

Lower it when the repository already holds this site's records of those
months from another publisher (cASO, say): a month-end record REPLACEs
the record of its VM and month.

Possible values:
    * A number of months, 0 or more.

Related options:
    * ``first_run_lookback_days``
"""),
    cfg.IntOpt(
        'page_size',
        default=1000,
        min=1,
        help="""
Items asked of a cloud API per page when listing servers or volumes.

Larger pages mean fewer calls. Nova caps it with its own
``[api] max_limit`` (1000 by default).

Possible values:
    * A positive integer.

Related options:
    * None
"""),
    cfg.StrOpt(
        'listing_scope',
        default='auto',
        choices=[('auto', 'all_projects for a token with the admin role on '
                          'its project, else each_project'),
                 ('all_projects', "one listing of every project's "
                                  'servers, volumes or IPs (admin)'),
                 ('each_project', 'each project the accounting user holds '
                                  'a role on, with a token scoped to it '
                                  '(reader)')],
        help="""
Whether a run reads every project in one listing or project by project.

Nova, Cinder and Neutron list all projects at once (``all_tenants``) to
the admin role only, and their default policies refuse system-scoped
tokens. An accounting user that holds only ``reader`` on each project
(what EGI advises for cASO) reads each of them with a token scoped to
it: the projects are those Keystone lists for the user
(``GET /v3/auth/projects``), and each token comes from the
``[accounting_keystone]`` credentials with the project as their scope
(so those credentials must be scopable, such as a password: not an
application credential). ``auto`` reads all projects at once when the
run's token is scoped to a project and carries the admin role, and
project by project otherwise (a system-scoped token included).

Possible values:
    * ``auto``
    * ``all_projects``
    * ``each_project``

Related options:
    * ``[accounting_keystone]`` (credentials)
    * ``extractors``
"""),
    cfg.StrOpt(
        'image_id_source',
        default='auto',
        choices=[('auto', "the image's AppDB marketplace URI when it has "
                          'one, else its Glance id (what cASO writes)'),
                 ('mpuri', 'the marketplace URI only; ImageId left out '
                           'for an image without one'),
                 ('glance', 'the Glance id, Glance never read')],
        help="""
What a cloud record's ImageId names: the AppDB marketplace URI or the
Glance id of the VM's image.

The EGI accounting portal groups VM usage by ImageId and expects the
image's AppDB marketplace URI there: the image property
``vmcatcher_event_ad_mpuri``, which the appliance sync (like atrope and
cloudkeeper) sets on every image it registers from an image list. With
``auto`` a run reads Glance once (one paged listing, plus one read for
each image missing from it, such as a hidden image) and writes the URI of
images that have one, the Glance id of the others, as cASO does. ``mpuri``
leaves ImageId out of the records of images without a URI (local images),
for a site that reports only endorsed appliances by name. ``glance``
always writes the Glance id and never reads Glance. A VM booted from a
volume names no image: its ImageId is left out whatever this says. When
Glance refuses the accounting user or is not in the catalog, the run
warns once and goes on as if no image had a URI.

Possible values:
    * ``auto``
    * ``mpuri``
    * ``glance``

Related options:
    * ``page_size``
"""),
    cfg.BoolOpt(
        'ip_records',
        default=False,
        help="""
Publish public-IP records (JSON ``APEL Public IP message`` v0.2).

Off by default: mainline APEL 2.5.0 does not load them yet. Turn it on
together with the ``neutron`` extractor when EGI asks the site for them.

Possible values:
    * True or False.

Related options:
    * ``extractors``
"""),
    cfg.BoolOpt(
        'accelerator_records',
        default=False,
        help="""
Publish accelerator records (JSON ``APEL-accelerator-message`` v0.1).

Off by default: only an unmerged APEL branch loads them. When on, a VM
whose flavor has ``pci_passthrough:alias`` or ``resources:VGPU`` gives
one accelerator record per accelerator model and month.

Possible values:
    * True or False.

Related options:
    * None
"""),
]

ssm_opts = [
    cfg.StrOpt(
        'output_path',
        default='/var/spool/apel/outgoing/openstack',
        help="""
The dirq outgoing queue ``ssmsend`` reads cloud messages from.

Each message is one element of this queue (``dirq`` QueueSimple layout);
the messenger creates the directory when missing. Point ``ssmsend``'s
``[messaging] path`` at the same directory.

Possible values:
    * An absolute directory path.

Related options:
    * ``storage_output_path``
"""),
    cfg.StrOpt(
        'storage_output_path',
        help="""
A separate dirq queue for StAR storage messages.

EGI publishes storage usage to its own destination
(``eu-egi-storage-accounting``), so a site runs a second ``ssmsend``
with its own queue. Unset puts storage messages in ``output_path``.

Possible values:
    * An absolute directory path, or unset.

Related options:
    * ``output_path``
"""),
    cfg.IntOpt(
        'max_records',
        default=100,
        min=1,
        help="""
Most records in one message.

EGI's brokers reject larger messages (GGUS 143436).

Possible values:
    * A positive integer; keep 100 for EGI.

Related options:
    * ``max_bytes``
"""),
    cfg.IntOpt(
        'max_bytes',
        default=1000 * 1000,
        min=1024,
        help="""
A message is strictly smaller than this many bytes.

ARGO's messaging service refuses messages of 1 MB or more.

Possible values:
    * An integer of at least 1024.

Related options:
    * ``max_records``
"""),
]

json_opts = [
    cfg.StrOpt(
        'output',
        default='-',
        help="""
Where the ``json`` messenger writes, one JSON document per line.

A file path (appended to and synced before the window moves), ``-`` for
standard output, or ``tcp://HOST:PORT`` for a logstash ``tcp`` input with
the ``json_lines`` codec.

Possible values:
    * A file path, ``-``, or ``tcp://HOST:PORT``.

Related options:
    * ``[accounting] messengers``
"""),
]


KEYSTONE_GROUP_HELP = """
Credentials and endpoints the accounting reads the cloud with.

Any keystoneauth1 plugin works; ``password`` is typical. On default
policies the user needs ``reader`` on the system scope (Keystone: users
and projects) and ``reader`` on each project to account, which the run
reads with a token scoped to it, made from these credentials with the
project as their scope (see ``[accounting] listing_scope`` and the
README, "EGI accounting"); ``admin`` on a project reads all projects at
once::

    [accounting_keystone]
    auth_type = password
    auth_url = https://keystone.example.org:5000/v3
    username = accounting
    password = secret
    user_domain_name = Default
    system_scope = all
    region_name = RegionOne
"""

_ADAPTER_OPTS = ('region_name', 'interface', 'valid_interfaces')


def register_opts(conf):
    """Register this area's options on ``conf``."""
    conf.register_opts(accounting_opts, group=GROUP)
    conf.register_opts(ssm_opts, group=SSM_GROUP)
    conf.register_opts(json_opts, group=JSON_GROUP)
    keystone.register_group(conf, KEYSTONE_GROUP, KEYSTONE_GROUP_HELP,
                            only=_ADAPTER_OPTS)


def list_opts():
    return [(GROUP, accounting_opts),
            (SSM_GROUP, ssm_opts),
            (JSON_GROUP, json_opts),
            (KEYSTONE_GROUP, keystone.group_opts(only=_ADAPTER_OPTS))]

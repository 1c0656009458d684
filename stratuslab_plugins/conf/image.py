"""Options of the Glance store ``appliance`` (in ``glance-api.conf``).

glance_store registers a driver's options in the section of every backend
that uses it: with ``enabled_backends = repo:appliance`` they are read from
``[repo]``. The sample shows them once, under ``[appliance_store]``; copy
them into the section named after your store identifier. The driver
(:mod:`stratuslab_plugins.image.appliance`) takes its ``OPTIONS`` from
here, so Glance's own sample (``oslo-config-generator --namespace
glance.store``) lists the same options with the same help.
"""

from oslo_config import cfg

#: The group the sample shows the options in (see the module docstring).
EXAMPLE_GROUP = 'appliance_store'

_SECTION_NOTE = """
These options go in the ``glance-api.conf`` section named after
the store identifier given in ``[DEFAULT] enabled_backends``
(``[repo]`` for ``enabled_backends = repo:appliance``), not in
``[appliance_store]``.
"""

appliance_store_opts = [
    cfg.StrOpt(
        'appliance_registry_url',
        sample_default='https://registry.example.org',
        help="""
Base URL of the OCI registry that holds this store's images.

The store keeps every image it receives as a single-layer OCI
artifact in this registry (distribution, Harbor, Zot...), and reads
the locations that name this host with the credentials and TLS
settings below. Give the scheme, host and port only; the repository
is a separate option. Locations naming another registry are read
anonymously, and only from the registries of
``appliance_allowed_registries``.
%s
Possible values:
    * ``https://HOST[:PORT]``, or ``http://HOST[:PORT]`` for a
      registry on a trusted network.

Related options:
    * ``appliance_repository``
    * ``appliance_username``
    * ``appliance_ca_file``
    * ``appliance_allowed_registries``
""" % _SECTION_NOTE),
    cfg.StrOpt(
        'appliance_repository',
        sample_default='glance/images',
        help="""
Repository of the registry where new images go.

Each image this store receives becomes a manifest tagged
``glance-<image id>`` in this repository, whose single layer is
the image data, addressed by its SHA-256 digest. Identical images
share one blob. Leave it unset for a read-only store that only
serves appliances already in a registry (locations added through
Glance's locations API); Glance then refuses uploads to this
store.

Possible values:
    * An OCI repository name: lowercase components joined by
      ``/``, for example ``glance/images`` or
      ``vo.example.org/snapshots``.

Related options:
    * ``appliance_registry_url``
"""),
    cfg.StrOpt(
        'appliance_username',
        help="""
User or robot account the store authenticates to the registry
with.

The registry may ask for Basic authentication or for a Bearer
token (Harbor, Docker Hub); both are answered with these
credentials. The account needs push, pull and delete rights on
``appliance_repository``. Leave unset for a registry that allows
anonymous access.

Possible values:
    * A registry user name, e.g. ``robot$glance`` on Harbor.

Related options:
    * ``appliance_password``
"""),
    cfg.StrOpt(
        'appliance_password',
        secret=True,
        help="""
Password or secret of ``appliance_username``.

Possible values:
    * A string; ignored when ``appliance_username`` is unset.

Related options:
    * ``appliance_username``
"""),
    cfg.ListOpt(
        'appliance_allowed_registries',
        default=[],
        help="""
Registries other than ``appliance_registry_url`` this store may read.

The store serves a location (``appliance://HOST[:PORT]/...``) only
from a registry the operator allows: its own
(``appliance_registry_url``, with its credentials) and the origins
listed here (read anonymously). Any other location is refused with
``BadStoreUri`` before a request leaves glance-api, so that whoever may
add image locations cannot make glance-api fetch from hosts the site
did not name, internal addresses included. List another site's
registry (EGI's, a partner's) to serve appliances published there
without a copy; a location without a port matches an origin on its
scheme's default port, HTTPS first. When this list is not empty, the
store answers for every ``appliance://`` location Glance gives it
(its ``url_prefix`` is ``appliance://``).

Possible values:
    * Origins, ``https://HOST[:PORT]`` (or ``http://`` for a registry
      on a trusted network), comma-separated; empty (default) allows
      only ``appliance_registry_url``.

Related options:
    * ``appliance_registry_url``
    * ``appliance_trust_policy_file``
    * ``appliance_read_verification``
"""),
    cfg.ListOpt(
        'appliance_token_realms',
        default=[],
        help="""
Token services off the registry's host that may receive its password.

Where credentials go: ``appliance_password`` (Basic) and the
registry's tokens (Bearer) are sent only to the origin (scheme, host
and port) of ``appliance_registry_url``, never to another origin a
redirect, a ``Location`` or a ``Link`` header names, even when it
answers 401; registries named by other locations are read
anonymously. When the registry asks for a Bearer token, the password
goes to the token service (the challenge's ``realm``) only if that
realm is on the registry's host (over HTTPS, or HTTP when the
registry is HTTP) or its origin is listed here; otherwise the read or
upload fails with an error naming the realm and this option.

Possible values:
    * Origins, ``https://HOST[:PORT]``, comma-separated; empty (default)
      allows only the registry's host.

Related options:
    * ``appliance_registry_url``
    * ``appliance_username``
"""),
    cfg.StrOpt(
        'appliance_ca_file',
        help="""
CA bundle that verifies the registry's TLS certificate.

By default the system's trust store verifies the registry. Set a
PEM bundle when the registry's certificate comes from a private
CA.

Possible values:
    * Path of a PEM file of CA certificates.

Related options:
    * ``appliance_insecure``
"""),
    cfg.BoolOpt(
        'appliance_insecure',
        default=False,
        help="""
Do not verify the registry's TLS certificate.

Unlike Glance's ``http`` store, this store verifies TLS by
default. Set this only for a test registry with a self-signed
certificate: content is still checked against its digest, but
anyone on the path could serve a different registry's answers.

Possible values:
    * True: skip verification (logged as a warning).
    * False: verify with the system trust store or
      ``appliance_ca_file``.

Related options:
    * ``appliance_ca_file``
"""),
    cfg.IntOpt(
        'appliance_chunk_size',
        default=16,
        min=1,
        max=1024,
        help="""
MiB of upload data kept to resend after a broken connection.

An upload streams the image to the registry in one request. When the
connection breaks, the upload resumes from the offset the registry
holds if that is within the last this-many MiB sent; otherwise it
fails, the session is cancelled and Glance reports the error. Memory
use of one upload is about this much, whatever the image size.
Downloads stream in 4 MiB pieces.

Possible values:
    * An integer from 1 to 1024.

Related options:
    * ``appliance_retries``
"""),
    cfg.IntOpt(
        'appliance_retries',
        default=5,
        min=0,
        help="""
Attempts after a transient registry failure, for each request.

Connection errors, HTTP 429 and 5xx answers are retried with
exponential back-off; an upload resumes from the offset the
registry holds. When the attempts are spent, the upload fails,
its session is cancelled and nothing of the image remains in the
registry.

Possible values:
    * 0 or a positive integer.

Related options:
    * ``appliance_chunk_size``
"""),
    cfg.StrOpt(
        'appliance_trust_policy_file',
        help="""
Site trust policy applied when an image of this store is read.

When set, every read checks the appliance's manifest against the
policy (YAML, see ``etc/appliance-trust-policy.yaml.sample``): an
image whose checksum, identifier or endorser is denied, or that
has no trusted endorser, is refused. Meant for a store that serves
endorsed appliances; images uploaded by users carry no endorser
and are refused by such a store. Leave unset to serve every image
of the store.

Possible values:
    * Path of a trust policy YAML file, read when glance-api starts.

Related options:
    * ``appliance_repository``
    * ``appliance_read_verification``
"""),
    cfg.StrOpt(
        'appliance_read_verification',
        default='auto',
        choices=[
            ('auto', 'verify reads of a store with a trust policy, and '
                     'reads from a registry other than '
                     'appliance_registry_url'),
            ('always', 'verify every full read'),
            ('never', 'leave the check to the clients (os_hash_value)'),
        ],
        help="""
Which full reads glance-api checks against the location's digest.

A checked read hashes every byte it serves with SHA-256 and fails
at its end if the registry sent other bytes than the digest names;
it costs one core about 0.6 s per GiB on the glance-api host. Every
OpenStack consumer already checks what Glance serves against the
image's ``os_hash_value`` or ``checksum`` before using it (Nova
and Cinder through glanceclient, openstacksdk, Glance's own image
cache and ``copy-image``), so Glance's other stores never re-hash
on read. ``auto`` checks where this store makes a promise of its
own: a trust policy judges a digest, so a store with one checks
that the bytes are that digest, and a registry run by someone else
is checked before its bytes leave glance-api. Ranged reads are
never checked (a part has no digest).

Related options:
    * ``appliance_trust_policy_file``
    * ``appliance_registry_url``
"""),
]


def register_opts(conf, group=EXAMPLE_GROUP):
    """Register the store's options in ``group`` of ``conf``."""
    conf.register_opts(appliance_store_opts, group=group)


def list_opts():
    return [(EXAMPLE_GROUP, appliance_store_opts)]

"""Options of the appliance pillar: the registry, the CAs, the policy.

The ``[appliance]`` group tells a service (glance-api with the
``appliance`` store, a sync job) which OCI registry holds the appliances,
how to authenticate to it, which CAs sign endorsers and which trust
policy to apply. The ``openstack appliance`` commands take the same
settings as ``--os-appliance-*`` options or ``OS_APPLIANCE_*`` variables.
A service may register the same options under another group (one per
Glance store, for instance) with ``register_opts(conf, group)``.
"""

from oslo_config import cfg

GROUP = 'appliance'

registry_opts = [
    cfg.URIOpt(
        'registry_url',
        schemes=['http', 'https'],
        help="""
Base URL of the OCI registry holding the appliances.

Any registry speaking the OCI distribution API: Harbor (as EGI runs),
distribution, Zot. Give scheme, host and port only; repositories are
named in appliance references (``VO/NAME:TAG``).

Possible values:
    * ``https://HOST[:PORT]``, or ``http://`` for a registry on a trusted
      network only.

Related options:
    * ``registry_username``, ``registry_password``
    * ``registry_ca_file``, ``registry_insecure``
"""),
    cfg.StrOpt(
        'registry_username',
        help="""
User or robot account for the registry; unset for anonymous access.

Harbor robot accounts (``robot$project+name``) work as they are. The
client answers Basic and Bearer-token challenges itself.

Possible values:
    * A user name, or unset.

Related options:
    * ``registry_password``
"""),
    cfg.StrOpt(
        'registry_password',
        secret=True,
        help="""
Password or robot secret of ``registry_username``.

Possible values:
    * A string.

Related options:
    * ``registry_username``
"""),
    cfg.ListOpt(
        'registry_token_realms',
        default=[],
        help="""
Token services off the registry's host that may receive its credentials.

Where credentials go: the password (Basic) and the registry's tokens
(Bearer) are sent only to the registry's own origin (scheme, host and
port of ``registry_url``), never to another origin a redirect, a
``Location`` or a ``Link`` header names, even when it answers 401. When
the registry asks for a Bearer token, the password goes to the token
service (the challenge's ``realm``) only if that realm is on the
registry's host (over HTTPS, or HTTP when the registry is HTTP) or its
origin is listed here; otherwise the request fails with an error naming
the realm and this option. List the origin of a registry whose token
service lives elsewhere (Docker Hub's ``https://auth.docker.io``, a
Harbor behind a separate identity host). Anonymous clients fetch
anonymous tokens from any realm.

Possible values:
    * Origins, ``https://HOST[:PORT]``, comma-separated; empty (default)
      allows only the registry's host.

Related options:
    * ``registry_url``, ``registry_username``, ``registry_password``
"""),
    cfg.StrOpt(
        'registry_ca_file',
        help="""
PEM file of the CAs that may sign the registry's TLS certificate.

Unset, the system's trust store is used. Set it for a registry whose
certificate comes from a site or IGTF CA the system does not know.

Possible values:
    * A path to a PEM bundle, or unset.

Related options:
    * ``registry_insecure``
"""),
    cfg.BoolOpt(
        'registry_insecure',
        default=False,
        help="""
Skip TLS verification of the registry. Testing only.

Content digests are still verified, but not who serves them, and
credentials go to whoever answers. Prefer ``registry_ca_file``.

Possible values:
    * ``false`` (default) or ``true``.

Related options:
    * ``registry_ca_file``
"""),
    cfg.IntOpt(
        'registry_timeout',
        default=60,
        min=1,
        help="""
Seconds to wait for the registry to accept a connection or send data.

Possible values:
    * A positive integer.

Related options:
    * ``registry_retries``
"""),
    cfg.IntOpt(
        'registry_retries',
        default=5,
        min=0,
        help="""
Attempts after a transient registry failure.

Connection errors, 429 and 5xx answers are retried with exponential
backoff; an upload chunk resumes from the offset the registry reports; a
download resumes with HTTP Range. After the last attempt the operation
fails and an unfinished upload is cancelled.

Possible values:
    * 0 or a positive integer.

Related options:
    * ``registry_timeout``
"""),
    cfg.IntOpt(
        'upload_chunk_size',
        default=16,
        min=1,
        max=512,
        help="""
Size in MiB of each upload chunk sent to the registry.

A chunk is the unit resent after a failure; memory use is about two
chunks, whatever the appliance's size. Larger chunks mean fewer requests.

Possible values:
    * An integer from 1 to 512.

Related options:
    * ``registry_retries``
"""),
]

trust_opts = [
    cfg.StrOpt(
        'ca_path',
        default='/etc/grid-security/certificates',
        help="""
Directory of trusted CA certificates that sign endorsers, and their CRLs.

Hashed PEM files (``openssl rehash``), as the IGTF distribution installs
them, with each CA's CRL as ``<hash>.r0``, where fetch-crl writes it.
Image-list signatures are verified with ``openssl smime -verify -CApath``
against it, then every certificate of the signer's chain is checked
against its CA's CRL. Run fetch-crl from cron: by default a CA without a
CRL, or with an expired one, makes every list it vouches for untrusted.

Possible values:
    * A directory path.

Related options:
    * ``trust_policy_file`` (its ``require_crls`` and
      ``accept_expired_crls`` settings)
"""),
    cfg.StrOpt(
        'trust_policy_file',
        help="""
YAML file of the site's appliance trust policy.

Allowed and denied endorsers, denied checksums and identifiers, allowed
VOs, whether signatures and expiry are enforced. See
``etc/appliance-trust-policy.yaml.sample``. Unset, any appliance whose
signed, unexpired list verifies against ``ca_path`` is trusted.

Possible values:
    * A path to a YAML file, or unset.

Related options:
    * ``ca_path``
"""),
]


def register_opts(conf, group=GROUP):
    """Register this area's options on ``conf`` under ``group``."""
    conf.register_opts(registry_opts + trust_opts, group=group)


def list_opts():
    return [(GROUP, registry_opts + trust_opts)]

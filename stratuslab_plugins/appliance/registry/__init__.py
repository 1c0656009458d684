"""A streaming client of the OCI distribution API, for multi-GB appliances.

Why not oras: oras-py (0.2.43, checked November 2026) uploads a blob with
``fd.read()`` of the whole file unless asked for chunks, takes a file
*path* and hashes it in a separate pass before uploading (no pipes, two
reads), downloads without HTTP Range resume and without checking the
digest, and leaves the upload session open when a chunk fails. Appliances
are many gigabytes, often piped, so this module is a small client on
``requests``: HTTP retries are urllib3's ``Retry`` on a mounted
``HTTPAdapter``, authentication is in :mod:`.auth`, and only what the
OCI protocol itself needs (upload sessions, Range resume) is written here.

What it guarantees:

* ``push_blob`` streams any file object through one upload session as
  one streamed PATCH (memory bounded by the resend window, no temporary
  file), computes every checksum in the same pass, resumes after a broken
  connection from the offset the registry reports, and cancels the
  session on any failure, so a failed push leaves no blob and no
  manifest.
* ``iter_blob`` / ``pull_blob`` stream a blob, resume with ``Range`` after
  a broken connection, and verify size and digest at the end of a full
  read; a mismatch raises :class:`IntegrityError` after the last chunk.
* Every failure is an ``exceptions.RegistryError`` subclass naming the
  registry URL, the repository and what was being done.

Example::

    client = RegistryClient('https://registry.example', username='robot',
                            password='secret', ca_file='/etc/ssl/ca.pem')
    checksums = client.push_blob('egi.vo/ubuntu', open('disk.qcow2', 'rb'))
    client.push_manifest('egi.vo/ubuntu', '22.04', manifest)
    with open('copy.qcow2', 'wb') as out:
        client.pull_blob('egi.vo/ubuntu', checksums.digest, out)
"""

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance.registry import downloads
from stratuslab_plugins.appliance.registry import listings
from stratuslab_plugins.appliance.registry import locations
from stratuslab_plugins.appliance.registry import manifests
from stratuslab_plugins.appliance.registry import transport
from stratuslab_plugins.appliance.registry import uploads

# The package's names, importable from here as before the split into
# one module per concept.
check_registry_url = locations.check_registry_url
parse_blob_url = locations.parse_blob_url
OCI_MANIFEST = manifests.OCI_MANIFEST
DOCKER_MANIFEST = manifests.DOCKER_MANIFEST
OCI_INDEX = manifests.OCI_INDEX
MANIFEST_TYPES = manifests.MANIFEST_TYPES
EMPTY_CONFIG_TYPE = manifests.EMPTY_CONFIG_TYPE
EMPTY_CONFIG = manifests.EMPTY_CONFIG
MANIFEST_MAX_BYTES = manifests.MANIFEST_MAX_BYTES
UPLOAD_CHUNK_SIZE = uploads.UPLOAD_CHUNK_SIZE
DOWNLOAD_CHUNK_SIZE = downloads.DOWNLOAD_CHUNK_SIZE
RETRY_STATUS = transport.RETRY_STATUS


class RegistryClient(uploads.Uploads, downloads.Downloads,
                     manifests.Manifests, listings.Listings,
                     transport.Transport):
    """Client of one OCI registry (distribution, Harbor, Zot...).

    :param url: base URL of the registry, ``https://HOST[:PORT]``.
    :param username: user or robot account; None for anonymous access.
    :param password: its password or secret.
    :param ca_file: PEM bundle of the CAs that may sign the registry's
        certificate; None for the system's trust store.
    :param insecure: skip TLS verification. Only by explicit choice: the
        content's digests are still verified, but not who serves it.
    :param timeout: seconds to wait for a connection or a read.
    :param retries: attempts after a transient failure (connection error,
        429, 5xx) for each request, and for each upload chunk.
    :param backoff: urllib3's backoff factor between those attempts.
    :param chunk_size: bytes of upload data kept to resend after a
        broken connection (the resend window); the upload's memory use is
        about this much, whatever the blob's size.
    :param token_realms: origins (``https://HOST[:PORT]``) of token
        services off the registry's host that may receive ``password``
        (see :mod:`.auth` for where credentials go).
    """


def client_from_conf(conf, group='appliance'):
    """Return a :class:`RegistryClient` configured from ``conf[group]``.

    The options are those of ``stratuslab_plugins.conf.appliance``,
    registered under ``group`` by the caller (one group per Glance store).
    """
    opts = conf[group]
    if not opts.registry_url:
        raise exceptions.InvalidInput(
            'No registry configured: set [%s] registry_url.' % group)
    return RegistryClient(
        opts.registry_url, username=opts.registry_username,
        password=opts.registry_password, ca_file=opts.registry_ca_file,
        insecure=opts.registry_insecure, timeout=opts.registry_timeout,
        retries=opts.registry_retries,
        chunk_size=opts.upload_chunk_size * 1024 * 1024,
        token_realms=opts.registry_token_realms)

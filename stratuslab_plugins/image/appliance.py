"""glance_store driver ``appliance``: Glance images in an OCI registry.

With this store a site's Glance images live in the appliance repository
(:mod:`stratuslab_plugins.appliance`): an OCI registry shared by sites and
regions, where identical images are one blob. An image Glance uploads
becomes an appliance (a single-layer manifest tagged ``glance-<image id>``
and annotated with the image id and its checksums) that can later be
endorsed and published; an appliance endorsed elsewhere is served by
Glance from its registry, without a local copy, by adding its location.

Configuration (``glance-api.conf``, multi-store only: the legacy
``default_store`` has a fixed list of choices)::

    [DEFAULT]
    enabled_backends = repo:appliance, local:file

    [glance_store]
    default_backend = repo

    [repo]
    appliance_registry_url = https://registry.example.org
    appliance_repository = glance/images
    appliance_username = robot$glance
    appliance_password = secret

Locations are self-describing and content-addressed::

    appliance://HOST[:PORT]/REPOSITORY[:TAG]@sha256:HEX

``HEX`` is the SHA-256 of the image data (the layer's digest). ``TAG``
names the manifest: ``glance-<image id>`` for images this store added.
Reads check that the tag still names that content, and the trust policy
reads the endorsement from that manifest. Whether the bytes served are
also hashed against the digest is ``appliance_read_verification``'s
choice (by default: with a trust policy, or from another registry).
``delete`` removes that manifest only, so a blob shared with another
image stays (the registry's garbage collector removes blobs no manifest
references). A location without a tag is read-only: the store never
deletes what it did not add.

This module is a thin adapter: the registry protocol, checksums, the
appliance model and the trust policy are in ``stratuslab_plugins.
appliance``; here they meet glance_store's interface. The store's own
pieces that need no registry sit beside it, one concept each: the
location URI (:mod:`.location`), the upload reader (:mod:`.upload`), the
translation of errors (:mod:`.errors`) and the chunk streams ``get()``
returns (:mod:`.streams`).
"""

import threading
import urllib.parse

from glance_store import capabilities
import glance_store.driver
from glance_store import exceptions
from oslo_log import log as logging
from oslo_utils import units

from stratuslab_plugins.appliance import exceptions as appliance_exceptions
from stratuslab_plugins.appliance import identifiers
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance import repository as appliance_repository
from stratuslab_plugins.appliance import trust
from stratuslab_plugins.conf import image as image_conf
from stratuslab_plugins.image import errors
from stratuslab_plugins.image import location as appliance_location
from stratuslab_plugins.image import streams
from stratuslab_plugins.image import upload

LOG = logging.getLogger(__name__)

SCHEME = appliance_location.SCHEME
#: glance_store finds a driver's location class as ``StoreLocation`` in
#: the driver's own module (``Store.get_store_location_class``).
StoreLocation = appliance_location.StoreLocation
#: The tag of the manifest an image of this store lives under.
TAG_PREFIX = 'glance-'
#: Manifest annotation naming the Glance image the appliance came from.
IMAGE_ID_ANNOTATION = model.ANNOTATION_PREFIX + 'glance.image_id'


class Store(glance_store.driver.Store):
    """Images as appliances in an OCI registry (see the module docstring)."""

    _CAPABILITIES = (capabilities.BitMasks.READ_RANDOM
                     | capabilities.BitMasks.WRITE_ACCESS
                     | capabilities.BitMasks.DRIVER_REUSABLE)
    OPTIONS = image_conf.appliance_store_opts

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._clients_lock = threading.Lock()
        self.policy = None
        self.registries = registry.locations.AllowedRegistries()

    def get_schemes(self):
        return (SCHEME,)

    @property
    def _store_conf(self):
        return getattr(self.conf, self.backend_group or 'glance_store')

    def configure(self, re_raise_bsc=False):
        conf = self._store_conf
        self.WRITE_CHUNKSIZE = conf.appliance_chunk_size * units.Mi
        # Downloads stream; larger pieces only add copies (measured with
        # tools/bench/store.py), whatever the upload chunk size.
        self.READ_CHUNKSIZE = registry.DOWNLOAD_CHUNK_SIZE
        self._close_clients()
        self.policy = None
        name = self.backend_group or SCHEME
        try:
            for realm in conf.appliance_token_realms:
                registry.locations.check_origin(
                    realm, 'appliance_token_realms entry')
            self.registries = registry.locations.AllowedRegistries(
                conf.appliance_registry_url,
                conf.appliance_allowed_registries,
                option='appliance_allowed_registries in [%s]' % name)
            if conf.appliance_trust_policy_file:
                self.policy = trust.TrustPolicy.load(
                    conf.appliance_trust_policy_file)
        except appliance_exceptions.ApplianceError as error:
            raise exceptions.BadStoreConfiguration(store_name=name,
                                                   reason=str(error))
        self._url_prefix = self._location_prefix()
        super().configure(re_raise_bsc=re_raise_bsc)

    def _location_prefix(self):
        """Return the start of the locations this store answers for.

        Glance gives a location that carries no store (one added through
        its locations API) to the store whose ``url_prefix`` it starts
        with: a writable store answers for its repository, a read-only
        one for its whole registry, or for every location when it may
        read other registries (the store that serves appliances published
        elsewhere; ``appliance_allowed_registries`` says which).
        """
        conf = self._store_conf
        netloc = urllib.parse.urlsplit(conf.appliance_registry_url
                                       or '').netloc
        if netloc and conf.appliance_repository:
            return '%s://%s/%s' % (SCHEME, netloc, conf.appliance_repository)
        if netloc and not self.registries.others:
            return '%s://%s/' % (SCHEME, netloc)
        return '%s://' % SCHEME

    def configure_add(self):
        conf = self._store_conf
        name = self.backend_group or SCHEME
        if not conf.appliance_registry_url or not conf.appliance_repository:
            raise exceptions.BadStoreConfiguration(
                store_name=name,
                reason='set appliance_registry_url and appliance_repository '
                       'in [%s] to let this store accept images' % name)
        try:
            registry.check_registry_url(conf.appliance_registry_url)
            identifiers.check_repository(conf.appliance_repository)
        except appliance_exceptions.InvalidInput as error:
            raise exceptions.BadStoreConfiguration(store_name=name,
                                                   reason=str(error))

    # -- registry clients ----------------------------------------------------

    def _own_netloc(self):
        url = self._store_conf.appliance_registry_url
        return urllib.parse.urlsplit(url).netloc if url else None

    def _client(self, netloc=None):
        """Return the registry client for ``netloc`` (ours when None).

        Only allowed registries are read (``appliance_allowed_registries``;
        another raises ``RegistryNotAllowed`` before any request). Our
        registry gets the configured URL, credentials and TLS settings;
        another is read anonymously, at the scheme its allowed origin
        gives, so that credentials never leave for a registry they were
        not meant for.
        """
        conf = self._store_conf
        url, mine = self.registries.url_for(netloc or self._own_netloc())
        with self._clients_lock:
            client = self._clients.get(url)
            if client is None:
                client = registry.RegistryClient(
                    url,
                    username=conf.appliance_username if mine else None,
                    password=conf.appliance_password if mine else None,
                    ca_file=conf.appliance_ca_file,
                    insecure=conf.appliance_insecure,
                    retries=conf.appliance_retries,
                    chunk_size=self.WRITE_CHUNKSIZE,
                    token_realms=conf.appliance_token_realms if mine
                    else ())
                self._clients[url] = client
            return client

    def _close_clients(self):
        with self._clients_lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    # -- reading ---------------------------------------------------------

    def _layer(self, client, location):
        """Return ``(size, manifest)`` of the content a location names.

        With a tag, the manifest must still name the location's content
        (a moved tag is "not found", never other data); without one,
        the blob's own size is all there is.
        """
        loc = location.store_location
        if loc.tag is None:
            return client.blob_size(loc.repository, loc.digest), None
        _, manifest = client.get_manifest(loc.repository, loc.tag)
        for layer in manifest.get('layers') or ():
            if layer.get('digest') == loc.digest:
                return int(layer.get('size') or 0), manifest
        raise exceptions.NotFound(
            message='%s:%s no longer names content %s; the image was '
                    'deleted or its tag moved.' % (loc.repository, loc.tag,
                                                   loc.digest))

    def _check_trusted(self, location, manifest):
        if self.policy is None:
            return
        loc = location.store_location
        if manifest is None:
            raise exceptions.Forbidden(
                message='Location %s names no tag, so its endorsement cannot '
                        'be read, and store %s has a trust policy; add the '
                        'location as REPOSITORY:TAG@DIGEST.'
                        % (loc.get_uri(), self.backend_group))
        appliance = model.Appliance.from_manifest(manifest,
                                                  location=loc.get_uri())
        verdict = self.policy.check_appliance(appliance)
        if not verdict.trusted:
            raise appliance_exceptions.NotTrusted(
                'Store %s refuses to serve %s: %s.'
                % (self.backend_group, loc.get_uri(), verdict.reason))

    def _verifies(self, location):
        """Whether a full read of ``location`` is checked against its digest.

        ``appliance_read_verification`` decides; ``auto`` checks where
        the store promises more than Glance's ``os_hash_value`` does: a
        trust policy judged the digest, or the bytes come from another
        site's registry (see the option's help).
        """
        mode = self._store_conf.appliance_read_verification
        if mode == 'auto':
            return (self.policy is not None
                    or location.store_location.netloc != self._own_netloc())
        return mode == 'always'

    @capabilities.check
    def get(self, location, offset=0, chunk_size=None, context=None):
        """Return ``(iterator of the data, size)``, from ``offset``.

        :param chunk_size: bytes to read from ``offset`` (a ranged read);
            None reads to the end. A full read is verified against the
            digest as it ends when :meth:`_verifies` says so.
        """
        loc = location.store_location
        action = 'read %s' % loc.get_uri()
        with errors.glance_errors(action):
            client = self._client(loc.netloc)
            size, manifest = self._layer(client, location)
            self._check_trusted(location, manifest)
            if offset > size or offset < 0:
                raise exceptions.Invalid(
                    message='Offset %d is outside image %s of %d bytes.'
                            % (offset, loc.get_uri(), size))
            # A Range from the end would be refused (416): nothing to read.
            verify = self._verifies(location) and offset == 0
            chunks = (client.iter_blob(loc.repository, loc.digest,
                                       offset=offset, size=size,
                                       chunk_size=self.READ_CHUNKSIZE,
                                       verify=verify)
                      if offset < size else (chunk for chunk in ()))
            if verify and not chunk_size:
                chunks = streams.last_held_back(chunks)
        if chunk_size:
            chunks = streams.limited(chunks, chunk_size)
        return streams.translated(chunks, action), (chunk_size or size)

    def get_size(self, location, context=None):
        """Return the size of the content ``location`` names.

        Glance asks it when a location is added or set, before keeping
        it, so this is where a location is refused: a registry not
        allowed, a hostile manifest, content the trust policy refuses.
        Refused later, as Glance reads the data, the location would stay
        on the queued image: Glance 33 pops it but does not save an
        empty location list (``if location_data:`` in its
        ``_image_update``), and a locations PATCH would already have
        made the image active.

        Glance catches ``NotFound`` and ``BadStoreUri`` only here
        (glance/location.py ``_check_location_uri``, glance/quota): any
        other error would be an HTTP 500 on a locations PATCH. So every
        other failure (a registry that refuses or is down included) is
        ``BadStoreUri``, as the ``http`` store does for a host it cannot
        reach. Glance's answer says only "Invalid location": the reason
        is logged here.

        :raises: ``NotFound`` or ``BadStoreUri``.
        """
        loc = location.store_location
        try:
            with errors.glance_errors('find the size of %s' % loc.get_uri()):
                size, manifest = self._layer(self._client(loc.netloc),
                                             location)
                self._check_trusted(location, manifest)
                return size
        except (exceptions.NotFound, exceptions.BadStoreUri) as error:
            LOG.warning('%s', error)
            raise
        except exceptions.GlanceStoreException as error:
            LOG.warning('%s', error)
            raise exceptions.BadStoreUri(message=str(error)) from error

    # -- writing ---------------------------------------------------------

    def _manifest(self, client, repository, checksums, image_id,
                  disk_format):
        appliance = model.new_appliance(
            checksums, title='Glance image %s' % image_id,
            identifier=image_id, disk_format=disk_format)
        config = client.push_bytes(repository, registry.EMPTY_CONFIG)
        manifest = appliance_repository.build_manifest(appliance, config)
        manifest['annotations'][IMAGE_ID_ANNOTATION] = image_id
        return manifest

    def _check_new(self, client, repository, tag):
        try:
            client.resolve(repository, tag)
        except appliance_exceptions.RegistryNotFound:
            return
        raise exceptions.Duplicate(
            message='%s:%s already exists in %s; the image was already '
                    'stored.' % (repository, tag, client.url))

    @glance_store.driver.back_compat_add
    @capabilities.check
    def add(self, image_id, image_file, image_size, hashing_algo,
            context=None, verifier=None):
        """Stream an image into the registry; see the module docstring.

        :returns: ``(location, bytes written, md5, multihash, {'store':
            backend})``.
        :raises: ``Duplicate`` when the image is already stored,
            ``Invalid`` when the data does not match its declared size,
            ``StorageFull``, ``StorageWriteDenied`` or
            ``BackendException`` when the registry fails. A failed
            upload session is cancelled by the registry client, so no blob
            remains; when the registry fails between the blob and its
            manifest, the blob is left unreferenced for the registry's
            garbage collector. The store never unlinks a blob itself:
            another image may share it.
        """
        repository = self._store_conf.appliance_repository
        tag = TAG_PREFIX + str(image_id)
        reader = upload.UploadReader(image_file, image_size, hashing_algo,
                                     verifier)
        action = 'store image %s in %s' % (image_id, repository)
        try:
            with errors.glance_errors(action, writing=True):
                identifiers.check_tag(tag)
                client = self._client()
                self._check_new(client, repository, tag)
                checksums = client.push_blob(
                    repository, reader, algorithms=reader.CLIENT_ALGORITHMS,
                    size=image_size or None)
                manifest = self._manifest(client, repository, checksums,
                                          str(image_id), reader.disk_format)
                client.push_manifest(repository, tag, manifest)
        finally:
            reader.close()
        location = StoreLocation(
            {'netloc': self._own_netloc(), 'repository': repository,
             'tag': tag, 'digest': checksums.digest},
            self.conf, backend_group=self.backend_group)
        multihash = (reader.hexdigest(hashing_algo)
                     or getattr(checksums, hashing_algo))
        LOG.debug('Stored image %s as %s (%d bytes, %s format).', image_id,
                  location.get_uri(), checksums.size, reader.disk_format)
        metadata = {'store': self.backend_group} if self.backend_group \
            else {}
        return (location.get_uri(), checksums.size, reader.hexdigest('md5'),
                multihash, metadata)

    # -- deleting ---------------------------------------------------------

    @capabilities.check
    def delete(self, location, context=None):
        """Delete the manifest of an image this store added.

        The blob stays while another manifest references it; the
        registry's garbage collector removes it afterwards.
        """
        loc = location.store_location
        if loc.tag is None or not loc.tag.startswith(TAG_PREFIX):
            raise exceptions.StoreDeleteNotSupported(
                message='Location %s was not added by this store (no '
                        '%s tag); the store never deletes appliances it '
                        'did not add.' % (loc.get_uri(), TAG_PREFIX))
        with errors.glance_errors('delete %s' % loc.get_uri()):
            client = self._client(loc.netloc)
            self._layer(client, location)
            try:
                client.delete_manifest(loc.repository, loc.tag)
            except appliance_exceptions.RegistryError as error:
                if error.status == 405:
                    raise exceptions.StoreDeleteNotSupported(
                        message=str(error)) from error
                raise

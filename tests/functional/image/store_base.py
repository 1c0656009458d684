"""glance_store configured with the ``appliance`` store, for tests.

glance_store's multi-store API reads the process-wide ``cfg.CONF``
(``enabled_backends`` and the backend groups), so the tests configure that
one through oslo.config's fixture, which undoes every override at cleanup,
and load the stores the way glance-api does
(``register_store_opts`` then ``create_multi_stores``).
"""

import io
import os

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cursive import verifiers
import glance_store
from glance_store import location as store_location
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance import repository as appliance_repository

REPOSITORY = 'glance/images'
#: The smallest resend window, so that a broken upload of a few MiB
#: cannot be resent from memory and must fail cleanly.
CHUNK_MIB = 1


def register_enabled_backends(conf):
    # Glance's own option; glance_store alone does not declare it.
    try:
        conf.register_opt(cfg.DictOpt('enabled_backends'))
    except cfg.DuplicateOptError:
        pass


class StoreTestCase(testtools.TestCase):
    """Load glance_store's stores from ``{backend: (type, options)}``."""

    def configure_stores(self, backends, default):
        conf = cfg.CONF
        register_enabled_backends(conf)
        fixture = self.useFixture(config_fixture.Config(conf))
        fixture.config(enabled_backends={name: kind for name, (kind, _)
                                         in backends.items()})
        glance_store.register_store_opts(conf)
        fixture.config(default_backend=default, group='glance_store')
        for name, (kind, options) in backends.items():
            fixture.config(group=name, **options)
        # The scheme map is process-wide too: start from this test's stores.
        self.addCleanup(store_location.SCHEME_TO_CLS_BACKEND_MAP.clear)
        store_location.SCHEME_TO_CLS_BACKEND_MAP.clear()
        glance_store.create_multi_stores(conf)
        return conf

    def appliance_options(self, registry_fixture, **extra):
        options = {'appliance_registry_url': registry_fixture.url,
                   'appliance_repository': REPOSITORY,
                   'appliance_chunk_size': CHUNK_MIB,
                   'appliance_retries': 1}
        options.update(extra)
        return options

    def registry_client(self, url, **kwargs):
        client = registry.RegistryClient(url, retries=0, **kwargs)
        self.addCleanup(client.close)
        return client


class SignedData:
    """Data and a real signature verifier (cursive's, as Glance builds)."""

    def __init__(self, data, tamper=False):
        key = ec.generate_private_key(ec.SECP256R1())
        signed = data + b'tampered' if tamper else data
        signature = key.sign(signed, ec.ECDSA(hashes.SHA256()))
        self.verifier = verifiers.ECCVerifier(signature, hashes.SHA256(),
                                              key.public_key())


def random_data(size):
    return os.urandom(size)


def publish_endorsed(client, repository, data, tag, endorser_dn,
                     title='Endorsed'):
    """Push an appliance endorsed by ``endorser_dn``, as a publisher would.

    Return its ``appliance://`` location (with ``tag``).
    """
    checksums = client.push_blob(repository, io.BytesIO(data))
    item = model.new_appliance(
        checksums, title=title, disk_format='raw',
        endorser=model.Endorser(dn=endorser_dn, ca='/C=EU/CN=CA'))
    config = client.push_bytes(repository, registry.EMPTY_CONFIG)
    client.push_manifest(repository, tag, appliance_repository.build_manifest(
        item, config))
    return 'appliance://%s/%s:%s@%s' % (client.url.split('//')[1],
                                        repository, tag, checksums.digest)


def manifest_with_layers(layers):
    """An OCI manifest with ``layers`` as given: a hostile registry's."""
    return {'schemaVersion': 2,
            'mediaType': 'application/vnd.oci.image.manifest.v1+json',
            'config': {'mediaType': 'application/vnd.oci.empty.v1+json',
                       'digest': 'sha256:' + 'ab' * 32, 'size': 2},
            'layers': layers}

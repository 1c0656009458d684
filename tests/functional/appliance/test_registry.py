"""The registry client against Debian's docker-registry (distribution 2.8).

Each test starts a real registry (tests/functional/registry_fixture.py) on
127.0.0.1; failures a registry will not produce on demand (a dropped
download, a 503, a registry vanishing mid-upload) come from a TCP proxy
in front of it (flaky_proxy.py). Blobs are small here; the 1 GiB figures
are in tools/bench/repository.py.
"""

import hashlib
import io
import os
import time

import fixtures
import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hashing
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance.registry import uploads
from tests.functional.appliance import flaky_proxy
from tests.functional.appliance import harbor_api
from tests.functional.appliance import token_server
from tests.functional import registry_fixture

CHUNK = 256 * 1024
REPO = 'vo.example.org/ubuntu'


class Pipe(io.RawIOBase):
    """A non-seekable source returning short reads, like a pipe."""

    def __init__(self, data, fail_after=None):
        self._data = io.BytesIO(data)
        self._fail_after = fail_after

    def readable(self):
        return True

    def read(self, size=-1):
        if self._fail_after is not None and self._data.tell() >= \
                self._fail_after:
            raise OSError('source device failed')
        return self._data.read(min(size, 100000) if size > 0 else size)


def manifest_for(client, checksums):
    config = client.push_bytes(REPO, registry.EMPTY_CONFIG)
    return {'schemaVersion': 2, 'mediaType': registry.OCI_MANIFEST,
            'config': {'mediaType': registry.EMPTY_CONFIG_TYPE,
                       'digest': config, 'size': 2},
            'layers': [{'mediaType': 'application/x-qemu-disk',
                        'digest': checksums.digest,
                        'size': checksums.size}]}


class AnonymousRegistryTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.registry = self.useFixture(registry_fixture.RegistryFixture())
        self.client = registry.RegistryClient(self.registry.url,
                                              chunk_size=CHUNK, backoff=0)
        self.addCleanup(self.client.close)
        self.data = os.urandom(CHUNK * 3 + 1234)

    def test_push_pull_list_delete(self):
        seen = []
        checksums = self.client.push_blob(REPO, Pipe(self.data),
                                          progress=seen.append)
        self.assertEqual(hashlib.sha512(self.data).hexdigest(),
                         checksums.sha512)
        self.assertEqual(len(self.data), sum(seen))
        self.assertEqual(len(self.data),
                         self.client.blob_size(REPO, checksums.digest))
        out = io.BytesIO()
        pulled = self.client.pull_blob(REPO, checksums.digest, out,
                                       algorithms=('sha512',))
        self.assertEqual(self.data, out.getvalue())
        self.assertEqual(checksums.sha512, pulled.sha512)
        self.assertEqual(
            self.data[CHUNK:],
            b''.join(self.client.iter_blob(REPO, checksums.digest,
                                           offset=CHUNK)))

        manifest = manifest_for(self.client, checksums)
        digest = self.client.push_manifest(REPO, '1.0', manifest)
        self.assertEqual((digest, manifest),
                         self.client.get_manifest(REPO, '1.0'))
        self.assertEqual(digest, self.client.resolve(REPO, '1.0'))
        self.assertEqual([REPO], self.client.list_repositories())
        self.assertEqual(['1.0'], self.client.list_tags(REPO))

        self.assertEqual(digest, self.client.delete_manifest(REPO, '1.0'))
        self.assertRaises(exceptions.RegistryNotFound,
                          self.client.get_manifest, REPO, '1.0')

    def test_pull_reuses_buffers_only_once_hashed(self):
        # Slow hashing threads and small buffers: the ring must not hand
        # out a buffer a thread has not hashed yet, or the pull fails its
        # digest check.
        self.useFixture(fixtures.MonkeyPatch(
            'stratuslab_plugins.appliance.registry.downloads.'
            'PULL_BUFFER_SIZE',
            16 * 1024))
        slow_update = hashing._HashWorker.run

        def run(worker):
            update = worker.hash.update

            class Slow(object):
                def update(self, chunk):
                    time.sleep(0.002)
                    update(chunk)
            worker.hash, real = Slow(), worker.hash
            try:
                slow_update(worker)
            finally:
                worker.hash = real
        self.useFixture(fixtures.MonkeyPatch(
            'stratuslab_plugins.appliance.hashing._HashWorker.run', run))
        checksums = self.client.push_blob(REPO, io.BytesIO(self.data))
        out = io.BytesIO()
        pulled = self.client.pull_blob(REPO, checksums.digest, out,
                                       algorithms=('sha512',))
        self.assertEqual(self.data, out.getvalue())
        self.assertEqual(checksums.sha512, pulled.sha512)

    def test_missing_things_are_named(self):
        digest = 'sha256:' + 'a' * 64
        e = self.assertRaises(exceptions.RegistryNotFound, b''.join,
                              self.client.iter_blob(REPO, digest))
        self.assertIn(digest, str(e))
        self.assertIn('404', str(e))
        e = self.assertRaises(exceptions.RegistryNotFound,
                              self.client.get_manifest, REPO, 'nope')
        self.assertIn('%s:nope' % REPO, str(e))

    def test_failing_source_cancels_the_session(self):
        e = self.assertRaises(OSError, self.client.push_blob, REPO,
                              Pipe(self.data, fail_after=CHUNK + 1))
        self.assertIn('source device failed', str(e))
        self.assertEqual([], self.registry.uploads(REPO))
        self.assertRaises(exceptions.RegistryNotFound,
                          self.client.list_tags, REPO)

    def test_regular_file_is_sent_with_its_length(self):
        path = self.useFixture(fixtures.TempDir()).join('disk.img')
        with open(path, 'wb') as f:
            f.write(b'ignored header' + self.data)
        with open(path, 'rb') as source:
            source.seek(len(b'ignored header'))
            stream = uploads._UploadStream(source, None, CHUNK)
            self.assertEqual(len(self.data), len(stream.body_from(0, '')))
            checksums = self.client.push_blob(REPO, source)
        self.assertEqual(hashlib.sha256(self.data).hexdigest(),
                         checksums.sha256)
        out = io.BytesIO()
        self.client.pull_blob(REPO, checksums.digest, out)
        self.assertEqual(self.data, out.getvalue())

    def assert_nothing_published(self):
        digest = 'sha256:' + hashlib.sha256(self.data).hexdigest()
        self.assertFalse(self.client.blob_exists(REPO, digest))
        self.assertEqual([], self.client.list_repositories())

    def test_source_shorter_than_its_size_fails_cleanly(self):
        e = self.assertRaises(exceptions.InvalidInput, self.client.push_blob,
                              REPO, Pipe(self.data), size=len(self.data) + 10)
        self.assertIn('ended at byte %d of %d' % (len(self.data),
                                                  len(self.data) + 10),
                      str(e))
        self.assertIn(REPO, str(e))
        self.assertEqual([], self.registry.uploads(REPO))
        self.assert_nothing_published()

    def test_source_longer_than_its_size_fails_cleanly(self):
        e = self.assertRaises(exceptions.InvalidInput, self.client.push_blob,
                              REPO, Pipe(self.data), size=len(self.data) - 10)
        self.assertIn('more than its %d bytes' % (len(self.data) - 10),
                      str(e))
        self.assertEqual([], self.registry.uploads(REPO))
        self.assert_nothing_published()

    def test_failing_sized_source_raises_its_error(self):
        e = self.assertRaises(OSError, self.client.push_blob, REPO,
                              Pipe(self.data, fail_after=CHUNK + 1),
                              size=len(self.data))
        self.assertIn('source device failed', str(e))
        self.assertEqual([], self.registry.uploads(REPO))
        self.assert_nothing_published()

    def test_long_shortfall_aborts_the_request(self):
        # Beyond PAD_LIMIT the request is cut instead of padded: still
        # nothing published, and the registry's session is cancelled.
        self.useFixture(fixtures.MonkeyPatch(
            'stratuslab_plugins.appliance.registry.uploads.PAD_LIMIT', CHUNK))
        e = self.assertRaises(exceptions.InvalidInput, self.client.push_blob,
                              REPO, Pipe(self.data), size=len(self.data) * 2)
        self.assertIn('ended at byte %d' % len(self.data), str(e))
        self.assert_nothing_published()

    def test_tampered_blob_is_refused_after_last_chunk(self):
        checksums = self.client.push_blob(REPO, io.BytesIO(self.data))
        path = self.registry.blob_path(checksums.digest)
        with open(path, 'r+b') as f:
            # Flip the byte: writing a fixed one left random data unchanged
            # once in 256 runs.
            f.seek(CHUNK)
            f.write(bytes([self.data[CHUNK] ^ 0xff]))
        e = self.assertRaises(exceptions.IntegrityError, self.client.pull_blob,
                              REPO, checksums.digest, io.BytesIO())
        self.assertIn('altered', str(e))
        self.assertIn(checksums.digest, str(e))

    def test_truncated_blob_is_refused(self):
        checksums = self.client.push_blob(REPO, io.BytesIO(self.data))
        with open(self.registry.blob_path(checksums.digest), 'r+b') as f:
            f.truncate(CHUNK)
        chunks = self.client.iter_blob(REPO, checksums.digest,
                                       size=checksums.size)
        e = self.assertRaises(exceptions.ApplianceError, b''.join, chunks)
        self.assertIn(checksums.digest, str(e))

    def test_grown_blob_is_refused(self):
        checksums = self.client.push_blob(REPO, io.BytesIO(self.data))
        with open(self.registry.blob_path(checksums.digest), 'ab') as f:
            f.write(b'appended')
        chunks = self.client.iter_blob(REPO, checksums.digest,
                                       size=checksums.size)
        e = self.assertRaises(exceptions.IntegrityError, b''.join, chunks)
        self.assertIn('too long', str(e))

    def test_deletes_disabled_or_unreachable_registry(self):
        self.registry.stop()
        e = self.assertRaises(exceptions.RegistryUnavailable,
                              self.client.list_repositories)
        self.assertIn(self.registry.url, str(e))


class FlakyRegistryTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.registry = self.useFixture(registry_fixture.RegistryFixture())
        self.proxy = self.useFixture(
            flaky_proxy.FlakyProxy(self.registry.port))
        self.client = registry.RegistryClient(self.proxy.url,
                                              chunk_size=CHUNK, backoff=0,
                                              retries=3)
        self.addCleanup(self.client.close)
        self.direct = registry.RegistryClient(self.registry.url)
        self.data = os.urandom(CHUNK * 4)

    def test_download_resumes_with_range(self):
        checksums = self.direct.push_blob(REPO, io.BytesIO(self.data))
        self.proxy.cut_response_after = (self.proxy.response_bytes
                                         + CHUNK + 5000)
        out = io.BytesIO()
        self.client.pull_blob(REPO, checksums.digest, out)
        self.assertEqual(['cut response'], self.proxy.faults)
        self.assertEqual(self.data, out.getvalue())

    def test_broken_upload_is_sent_again(self):
        # A seekable source is re-read; a pipe is resent from the bytes
        # kept (the whole megabyte fits in the resend window).
        path = self.useFixture(fixtures.TempDir()).join('disk.img')
        with open(path, 'wb') as f:
            f.write(self.data)
        regular_file = open(path, 'rb')  # sent with Content-Length
        self.addCleanup(regular_file.close)
        for source in (io.BytesIO(self.data), Pipe(self.data), regular_file):
            self.proxy.faults = []
            self.proxy.cut_request_after = (self.proxy.request_bytes
                                            + CHUNK + CHUNK // 2)
            checksums = self.client.push_blob(REPO, source)
            self.assertEqual(['cut request'], self.proxy.faults)
            self.assertEqual(hashlib.sha512(self.data).hexdigest(),
                             checksums.sha512)
            out = io.BytesIO()
            self.direct.pull_blob(REPO, checksums.digest, out)
            self.assertEqual(self.data, out.getvalue())

    def test_pipe_beyond_the_resend_window_fails_cleanly(self):
        data = os.urandom(4 * uploads.PIECE_SIZE)
        self.proxy.cut_request_after = 3 * uploads.PIECE_SIZE
        e = self.assertRaises(exceptions.RegistryError,
                              self.client.push_blob, REPO, Pipe(data))
        self.assertIn('cannot be re-read', str(e))
        # Nothing published. (The broken session's files may outlive its
        # cancellation when distribution finishes the broken request after
        # it; the registry's upload purging removes them.)
        digest = 'sha256:' + hashlib.sha256(data).hexdigest()
        self.assertFalse(self.direct.blob_exists(REPO, digest))
        self.assertEqual([], self.direct.list_repositories())

    def test_transient_503_is_retried(self):
        self.proxy.answer_503 = 2
        self.assertEqual([], self.client.list_repositories())
        self.assertEqual(['503', '503'], self.proxy.faults)

    def test_persistent_503_is_reported(self):
        self.proxy.answer_503 = 100
        e = self.assertRaises(exceptions.RegistryUnavailable,
                              self.client.push_blob, REPO,
                              io.BytesIO(self.data))
        self.assertIn('start an upload to %s' % REPO, str(e))

    def test_registry_disappearing_mid_upload_publishes_nothing(self):
        self.proxy.down_after_request_bytes = CHUNK * 2
        e = self.assertRaises(exceptions.RegistryUnavailable,
                              self.client.push_blob, REPO,
                              io.BytesIO(self.data))
        self.assertIn(self.proxy.url, str(e))
        self.proxy.heal()
        digest = 'sha256:' + hashlib.sha256(self.data).hexdigest()
        self.assertFalse(self.direct.blob_exists(REPO, digest))
        self.assertEqual([], self.direct.list_repositories())


class SecuredRegistryTest(testtools.TestCase):
    """The second registry: htpasswd (bcrypt) Basic auth and TLS."""

    def setUp(self):
        super().setUp()
        self.registry = self.useFixture(registry_fixture.RegistryFixture(
            tls=True, users={'robot': 's3cret'}))

    def client(self, **kwargs):
        client = registry.RegistryClient(self.registry.url, backoff=0,
                                         **kwargs)
        self.addCleanup(client.close)
        return client

    def test_basic_auth_over_verified_tls(self):
        client = self.client(username='robot', password='s3cret',
                             ca_file=self.registry.ca_file)
        checksums = client.push_blob(REPO, io.BytesIO(b'x' * 1000))
        self.assertEqual(1000, client.blob_size(REPO, checksums.digest))
        self.assertEqual([REPO], client.list_repositories())

    def test_refused_credentials_are_named(self):
        for kwargs in ({}, {'username': 'robot', 'password': 'wrong'}):
            client = self.client(ca_file=self.registry.ca_file, **kwargs)
            e = self.assertRaises(exceptions.RegistryAuthError,
                                  client.list_repositories)
            self.assertIn('401', str(e))
            self.assertIn('user name and password', str(e))

    def test_project_listing_without_harbor_gives_the_refusal(self):
        client = self.client(ca_file=self.registry.ca_file,
                             username='robot', password='wrong')
        e = self.assertRaises(exceptions.RegistryAuthError,
                              client.list_project_repositories, 'vo')
        self.assertIn('list repositories', str(e))

    def test_unknown_ca_is_refused_unless_insecure(self):
        e = self.assertRaises(exceptions.RegistryError,
                              self.client(username='robot',
                                          password='s3cret').list_tags, REPO)
        self.assertIn('TLS verification', str(e))
        insecure = self.client(username='robot', password='s3cret',
                               insecure=True)
        self.assertRaises(exceptions.RegistryNotFound, insecure.list_tags,
                          REPO)


class TokenRegistryTest(testtools.TestCase):
    """The Bearer token flow (Harbor's), with a test token server."""

    def setUp(self):
        super().setUp()
        self.tokens = self.useFixture(token_server.TokenServer(
            {'robot': 's3cret'}))
        self.registry = self.useFixture(registry_fixture.RegistryFixture(
            token_server=self.tokens))

    def test_token_flow(self):
        client = registry.RegistryClient(self.registry.url,
                                         username='robot', password='s3cret',
                                         chunk_size=CHUNK)
        self.addCleanup(client.close)
        data = os.urandom(CHUNK * 2 + 10)
        checksums = client.push_blob(REPO, io.BytesIO(data))
        out = io.BytesIO()
        client.pull_blob(REPO, checksums.digest, out)
        self.assertEqual(data, out.getvalue())
        self.assertEqual([REPO], client.list_repositories())
        # One token per scope, reused for every chunk. The registry lists
        # a scope's actions in no fixed order (a Go map), so compare sets.
        scopes = [(kind, name, frozenset(actions.split(',')))
                  for _, requested in self.tokens.requests
                  for kind, name, actions in
                  (scope.split(':') for scope in requested)]
        self.assertIn(('repository', REPO, frozenset(('pull', 'push'))),
                      scopes)
        self.assertIn(('registry', 'catalog', frozenset('*')), scopes)
        self.assertLessEqual(len(self.tokens.requests), 3)

    def test_anonymous_and_refused_token(self):
        for kwargs in ({}, {'username': 'robot', 'password': 'nope'}):
            client = registry.RegistryClient(self.registry.url, **kwargs)
            self.addCleanup(client.close)
            e = self.assertRaises(exceptions.RegistryAuthError,
                                  client.list_tags, REPO)
            self.assertIn('401', str(e))


class HarborProjectListingTest(testtools.TestCase):
    """Harbor refuses the catalog to robots; its project API lists."""

    def setUp(self):
        super().setUp()
        self.registry = self.useFixture(registry_fixture.RegistryFixture())
        self.harbor = self.useFixture(harbor_api.HarborAPI(
            self.registry.url, {'robot$vo': 's3cret'}))
        direct = registry.RegistryClient(self.registry.url)
        self.addCleanup(direct.close)
        for name in ('vo/ubuntu', 'vo/centos', 'vo-other/alma', 'other/x'):
            checksums = direct.push_blob(name, io.BytesIO(name.encode()))
            config = direct.push_bytes(name, registry.EMPTY_CONFIG)
            direct.push_manifest(name, '1', {
                'schemaVersion': 2, 'mediaType': registry.OCI_MANIFEST,
                'config': {'mediaType': registry.EMPTY_CONFIG_TYPE,
                           'digest': config, 'size': 2},
                'layers': [{'mediaType': 'application/x-qemu-disk',
                            'digest': checksums.digest,
                            'size': checksums.size}]})

    def client(self, **kwargs):
        client = registry.RegistryClient(self.harbor.url, backoff=0,
                                         **kwargs)
        self.addCleanup(client.close)
        return client

    def test_project_repositories_come_from_the_project_api(self):
        self.useFixture(fixtures.MonkeyPatch(
            'stratuslab_plugins.appliance.registry.listings.'
            'HARBOR_PAGE_SIZE', 1))
        client = self.client(username='robot$vo', password='s3cret')
        self.assertEqual(['vo/centos', 'vo/ubuntu'],
                         client.list_project_repositories('vo'))
        # Refused the catalog, then paged through the project API (one
        # repository a page here: the list is whole only if paging works).
        self.assertEqual(('GET', '/v2/_catalog'), self.harbor.requests[0])
        self.assertIn(('GET', '/api/v2.0/projects/vo/repositories'),
                      self.harbor.requests)
        self.assertEqual(['1'], client.list_tags('vo/ubuntu'))

    def test_refused_robot_is_named(self):
        client = self.client(username='robot$vo', password='wrong')
        e = self.assertRaises(exceptions.RegistryAuthError,
                              client.list_project_repositories, 'vo')
        self.assertIn('list the repositories of project vo', str(e))

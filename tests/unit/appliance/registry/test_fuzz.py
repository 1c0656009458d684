"""Fuzzing what registries send: only ApplianceError escapes, memory bounded.

Hypothesis plays the registry: every request the real client sends (the
``requests`` session, the auth handler, the retry and redirect logic)
gets a fuzzed answer, with any status, hostile header values
(``Content-Length: 1e999``, Unicode digits, realms and locations on other
schemes) and any body: JSON values of any shape, manifests with any
value in any field, raw bytes, bodies past every cap. The answers come
from a ``requests`` transport adapter serving them from memory (the seam
``requests`` gives for this) instead of a socket, so that the suite
stays fast; the same hostile answers over real HTTP are in
tests/functional/appliance/test_bounded_reads.py. Each property: the
call returns or raises an ``ApplianceError`` subclass, and its memory
stays within a fixed bound, whatever the body's size. Failures found
are kept as plain tests at the end.
"""

import io
import json
import os

import hypothesis
from hypothesis import strategies as st
from requests import adapters
import testtools
import urllib3

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance.registry import bodies
from stratuslab_plugins.appliance.registry import manifests
from tests.unit.grid import fuzzing

FUZZ = hypothesis.settings(fuzzing.FUZZ, max_examples=int(
    os.environ.get('STRATUSLAB_FUZZ_EXAMPLES', '60')))
URL = 'https://registry.example'
REPO = 'vo/ubuntu'
DIGEST = 'sha256:' + 'ab' * 32
# Memory one call may take above the body it is sent: the largest cap
# (a manifest or a listing page, 4 MiB) a few times over, plus slack.
MEMORY_BOUND = 24 * 1024 * 1024

values = fuzzing.json_values
hostile_text = st.text(
    alphabet=st.sampled_from('0123456789²٣-e.:/ @[]<>;,="\'abchpstwxy'),
    max_size=40)
header_values = (hostile_text
                 | st.sampled_from(['1e999', '-1', '²', '0-٣', '9' * 40,
                                    'bytes=0-9', DIGEST, 'sha256:xyz',
                                    'ftp://registry.example/x',
                                    'https://other.example/v2/x',
                                    '/v2/%s/blobs/uploads/x' % REPO,
                                    '<https://registry.example/v2/_catalog'
                                    '?n=1>; rel="next"',
                                    'Bearer realm="https://registry.'
                                    'example/token",scope="repository:'
                                    'vo/ubuntu:pull"',
                                    'Bearer realm="http://[::1",x="y"',
                                    'Basic realm="x"']))
HEADERS = ('Content-Length', 'Location', 'Link', 'WWW-Authenticate',
           'Docker-Content-Digest', 'Range', 'Content-Range', 'Retry-After')


def descriptor():
    return st.fixed_dictionaries(
        {'mediaType': st.sampled_from(['application/x-qemu-disk', 'a/b'])
         | values,
         'digest': st.just(DIGEST) | values,
         'size': st.integers(min_value=0, max_value=2 ** 64) | values},
        optional={'annotations': st.dictionaries(st.text(max_size=8),
                                                 values, max_size=3)})


manifest_values = st.fixed_dictionaries(
    {'schemaVersion': st.just(2) | values,
     'config': descriptor() | values,
     'layers': st.lists(descriptor() | values, max_size=3) | values},
    optional={'mediaType': st.sampled_from(manifests.MANIFEST_TYPES)
              | values,
              'manifests': st.lists(descriptor(), max_size=2) | values,
              'annotations': st.dictionaries(st.text(max_size=8), values,
                                             max_size=3) | values})


@st.composite
def large_bodies(draw):
    """A body of up to twice the largest cap, from a repeated piece."""
    piece = draw(st.binary(min_size=1, max_size=32))
    count = draw(st.integers(min_value=1,
                             max_value=2 * bodies.LISTING_MAX_BYTES))
    return (piece * (count // len(piece) + 1))[:count]


response_bodies = (st.binary(max_size=200)
                   | values.map(lambda v: json.dumps(v).encode())
                   | manifest_values.map(lambda v: json.dumps(v).encode())
                   | st.sampled_from([b'[' * 50000 + b']' * 50000,
                                      b'{"tags": null}', b'{"errors": 7}',
                                      b'{"token": ["x"]}'])
                   | large_bodies())

answers = st.tuples(
    st.sampled_from([200, 201, 202, 204, 206, 301, 307, 400, 401, 403, 404,
                     405, 413, 429, 500, 503]) | st.integers(100, 599),
    st.dictionaries(st.sampled_from(HEADERS), header_values, max_size=4),
    response_bodies)


class Scripted(adapters.BaseAdapter):
    """A transport adapter answering every request from ``script``.

    :param script: a list of ``(status, headers, body)``; the last one
        answers every request past the end.
    """

    def __init__(self, script):
        super().__init__()
        self.script = list(script)
        self.sent = 0
        self._builder = adapters.HTTPAdapter()

    def send(self, request, stream=False, timeout=None, verify=True,
             cert=None, proxies=None):
        status, headers, body = self.script[min(self.sent,
                                                len(self.script) - 1)]
        self.sent += 1
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(body), headers=headers, status=status,
            reason='Fuzzed', preload_content=False, decode_content=False,
            request_method=request.method)
        response = self._builder.build_response(request, raw)
        response.connection = self
        return response

    def close(self):
        pass


def client_for(script, **kwargs):
    client = registry.RegistryClient(URL, retries=0, backoff=0, **kwargs)
    adapter = Scripted(script)
    client.session.mount('https://', adapter)
    client.session.mount('http://', adapter)
    return client


CALLS = {
    'manifest': lambda c: c.get_manifest(REPO, '1'),
    'manifest by digest': lambda c: c.get_manifest(REPO, DIGEST),
    'tags': lambda c: c.list_tags(REPO),
    'catalog': lambda c: c.list_repositories(),
    'project': lambda c: c.list_project_repositories('vo'),
    'blob size': lambda c: c.blob_size(REPO, DIGEST),
    'resolve': lambda c: c.resolve(REPO, '1'),
    'blob': lambda c: b''.join(c.iter_blob(REPO, DIGEST)),
    'push bytes': lambda c: c.push_bytes(REPO, b'{}'),
}


class RegistryResponseFuzzTest(testtools.TestCase):

    def call(self, name, script, **kwargs):
        client = client_for(script, **kwargs)
        self.addCleanup(client.close)
        outcome, peak = fuzzing.peak_memory(CALLS[name], client)
        if isinstance(outcome, Exception) and not isinstance(
                outcome, exceptions.ApplianceError):
            raise outcome
        self.assertLess(peak, MEMORY_BOUND, name)

    @hypothesis.settings(FUZZ)
    @hypothesis.given(st.sampled_from(sorted(CALLS)),
                      st.lists(answers, min_size=1, max_size=4))
    def test_any_answer(self, name, script):
        self.call(name, script)

    @hypothesis.settings(FUZZ)
    @hypothesis.given(st.sampled_from(sorted(CALLS)),
                      st.lists(answers, min_size=1, max_size=4))
    def test_any_answer_with_credentials(self, name, script):
        self.call(name, script, username='robot', password='s3cret')

    @hypothesis.settings(FUZZ)
    @hypothesis.given(manifest_values | values)
    def test_manifests(self, document):
        try:
            checked = manifests.check_manifest(document, 'fuzzed')
        except exceptions.InvalidInput as error:
            self.assertIn('fuzzed', str(error))
            return
        described = (checked.get('layers', []) + checked.get('manifests', [])
                     + ([checked['config']] if 'config' in checked else []))
        self.assertTrue(described or 'manifests' in checked)
        for descriptor in described:
            self.assertIsInstance(descriptor['size'], int)
            self.assertTrue(0 <= descriptor['size'] < 2 ** 63)

    @hypothesis.settings(FUZZ)
    @hypothesis.given(st.text(max_size=60) | header_values)
    def test_urls_and_challenges(self, text):
        registry.auth.parse_challenge(text)
        registry.auth.scope_key(text)
        registry.locations.origin_of(text)
        for check in (registry.check_registry_url, registry.parse_blob_url,
                      registry.locations.check_origin):
            try:
                check(text)
            except exceptions.InvalidInput:
                pass


class FoundTest(testtools.TestCase):
    """Inputs that broke the client before, kept as plain tests."""

    def refused(self, name, script, error=exceptions.ApplianceError,
                **kwargs):
        client = client_for(script, **kwargs)
        self.addCleanup(client.close)
        return self.assertRaises(error, CALLS[name], client)

    def test_layer_size_overflow(self):
        body = (b'{"schemaVersion": 2, "config": {"mediaType": "a/b", '
                b'"digest": "%s", "size": 2}, "layers": [{"mediaType": '
                b'"a/b", "digest": "%s", "size": 1e999}]}'
                % (DIGEST.encode(), DIGEST.encode()))
        error = self.refused('manifest', [(200, {}, body)],
                             exceptions.InvalidInput)
        self.assertIn('layers[0].size', str(error))

    def test_unicode_digit_sizes(self):
        error = self.refused('blob size', [(200, {'Content-Length': '²'},
                                            b'')],
                             exceptions.RegistryError)
        self.assertIn('not a size in bytes', str(error))

    def test_token_that_is_not_a_string(self):
        challenge = ('Bearer realm="%s/token",scope="repository:%s:pull"'
                     % (URL, REPO))
        self.refused('tags', [(401, {'WWW-Authenticate': challenge}, b''),
                              (200, {}, b'{"token": ["x"]}'),
                              (401, {}, b'')],
                     exceptions.RegistryAuthError, username='robot',
                     password='s3cret')

    def test_realm_that_is_not_a_url(self):
        self.refused('tags', [(401, {'WWW-Authenticate':
                                     'Bearer realm="http://[::1"'}, b'')],
                     exceptions.RegistryAuthError, username='robot',
                     password='s3cret')

    def test_error_document_that_is_not_an_object(self):
        error = self.refused('tags', [(404, {}, b'{"errors": 7}')],
                             exceptions.RegistryNotFound)
        self.assertIn('HTTP 404', str(error))

    def test_redirect_location_that_is_not_utf8(self):
        # http.client decodes headers as latin-1: the byte 0xb2 arrives
        # as '\xb2', which requests cannot decode as UTF-8.
        for location in ('\xb2', '\u0663'):
            error = self.refused('tags', [(307, {'Location': location},
                                           b'')], exceptions.RegistryError)
            self.assertIn('not UTF-8', str(error))

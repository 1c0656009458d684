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

import gzip
import http.client
import io
import json
import os
import zlib

import hypothesis
from hypothesis import strategies as st
from requests import adapters
import testtools
import urllib3

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance.registry import bodies
from stratuslab_plugins.appliance.registry import listings
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
                                    'Basic realm="x"', 'gzip', 'deflate',
                                    'br', 'identity']))
HEADERS = ('Content-Length', 'Location', 'Link', 'WWW-Authenticate',
           'Docker-Content-Digest', 'Range', 'Content-Range', 'Retry-After',
           'Content-Encoding')


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
        # What http.client refuses as it writes the request (a line break
        # or non-Latin-1 text in a header) it refuses here too: the
        # request is written to a connection that is never opened.
        writer = http.client.HTTPConnection('registry.example')
        writer.putrequest(request.method, request.path_url, skip_host=True,
                          skip_accept_encoding=True)
        for name, value in request.headers.items():
            writer.putheader(name, value)
        writer.close()
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


class CallTestCase(testtools.TestCase):

    def call(self, name, script, **kwargs):
        """Call ``name`` against ``script``: ApplianceError or a result."""
        client = client_for(script, **kwargs)
        self.addCleanup(client.close)
        outcome, peak = fuzzing.peak_memory(CALLS[name], client)
        if isinstance(outcome, Exception) and not isinstance(
                outcome, exceptions.ApplianceError):
            raise outcome
        self.assertLess(peak, MEMORY_BOUND, name)


class RegistryResponseFuzzTest(CallTestCase):

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


CHALLENGE = ('Bearer realm="%s/token",service="registry",scope="repository:'
             '%s:pull"' % (URL, REPO))
HARBOR_PAGE = json.dumps([{'name': 'vo/r%d' % i} for i in range(
    listings.HARBOR_PAGE_SIZE)]).encode()

token_values = st.one_of(
    st.sampled_from(['a\r\nX-Injected: 1', 'a\nb', '\u2603', ' leading',
                     'eyJhbGciOi.eyJzdWIi.c2ln', 'x' * 70000, '']),
    st.text(max_size=40), values)
token_documents = st.fixed_dictionaries({}, optional={
    'token': token_values, 'access_token': token_values,
    'expires_in': values})
names = st.lists(st.text(max_size=20) | values, max_size=5) | values
listing_documents = st.fixed_dictionaries({}, optional={
    'name': values, 'tags': names, 'repositories': names})
harbor_documents = st.lists(st.fixed_dictionaries({}, optional={
    'name': st.text(max_size=20) | values}) | values, max_size=5)
error_documents = st.fixed_dictionaries({}, optional={'errors': st.lists(
    st.fixed_dictionaries({}, optional={
        'code': values, 'message': values, 'detail': values}) | values,
    max_size=7) | values})

#: Each body the client reads whole, in the exchange that leads to it:
#: ``(call, with credentials, answers before the fuzzed one, documents
#: of the body's shape)``.
STAGES = {
    'token response': ('tags', True,
                       [(401, {'WWW-Authenticate': CHALLENGE}, b'')],
                       token_documents),
    'tag list': ('tags', False, [], listing_documents),
    'next tag page': ('tags', False, [(
        200, {'Link': '</v2/%s/tags/list?n=1&last=a>; rel="next"' % REPO},
        b'{"name": "vo/ubuntu", "tags": ["a"]}')], listing_documents),
    'catalog page': ('catalog', False, [], listing_documents),
    'next catalog page': ('catalog', False, [(
        200, {'Link': '</v2/_catalog?n=1&last=vo/a>; rel="next"'},
        b'{"repositories": ["vo/a"]}')], listing_documents),
    # Harbor's project API is asked when the catalog is refused.
    'Harbor project page': ('project', False, [(401, {}, b'')],
                            harbor_documents),
    'next Harbor project page': ('project', False,
                                 [(403, {}, b''), (200, {}, HARBOR_PAGE)],
                                 harbor_documents),
    'manifest': ('manifest', False, [], manifest_values),
}
ERROR_STATUSES = [400, 401, 403, 404, 405, 413, 416, 429, 500, 503]
ENCODERS = {
    'gzip': lambda body: gzip.compress(body, 1),
    'deflate': lambda body: zlib.compress(body, 1),
}


@st.composite
def stage_answers(draw, status, documents):
    """A fuzzed answer, its body compressed as its headers say."""
    headers = draw(st.dictionaries(st.sampled_from(HEADERS[:-1]),
                                   header_values, max_size=3))
    # Mostly documents of the body's shape, sometimes anything at all.
    body = draw(response_bodies if draw(st.integers(0, 4)) == 0
                else documents.map(lambda v: json.dumps(v).encode()))
    encoding = draw(st.sampled_from([None] + sorted(ENCODERS)))
    if encoding:
        headers['Content-Encoding'] = encoding
        body = ENCODERS[encoding](body)
    return status, headers, body


class RegistryBodyFuzzTest(CallTestCase):
    """Each body read whole, reached through the exchange that leads to it.

    The generic fuzz above rarely gets past a token challenge or to a
    second page; here each stage (token response, tag lists, catalog and
    Harbor pages, manifests, error documents) is reached on purpose, with
    documents of the right shape holding wrong values, bodies past every
    cap, and bodies compressed so that they grow past it when decoded.
    """

    def reach(self, stage, data):
        name, credentials, before, documents = STAGES[stage]
        answer = data.draw(stage_answers(200, documents))
        kwargs = {'username': 'robot', 'password': 's3cret'} \
            if credentials else {}
        self.call(name, before + [answer, (404, {}, b'')], **kwargs)

    @hypothesis.settings(FUZZ)
    @hypothesis.given(st.sampled_from(sorted(STAGES)), st.data())
    def test_each_body_read_whole(self, stage, data):
        self.reach(stage, data)

    @hypothesis.settings(FUZZ)
    @hypothesis.given(st.data())
    def test_token_responses(self, data):
        # The stage where a value read goes into a header of our own.
        self.reach('token response', data)

    @hypothesis.settings(FUZZ)
    @hypothesis.given(st.sampled_from(sorted(STAGES)),
                      st.sampled_from(ERROR_STATUSES), st.data())
    def test_each_error_document(self, stage, status, data):
        name, _, before, _ = STAGES[stage]
        answer = data.draw(stage_answers(status, error_documents))
        self.call(name, before + [answer], username='robot',
                  password='s3cret')


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

    def test_token_that_is_not_a_bearer_token(self):
        # 'a\r\nb' went into our Authorization header: http.client
        # raised ValueError out of the client; '\u2603' gave
        # UnicodeEncodeError, reported as a redirect that is not UTF-8.
        challenge = ('Bearer realm="%s/token",scope="repository:%s:pull"'
                     % (URL, REPO))
        for token in ('a\r\nX-Injected: 1', 'a\nb', '\u2603', ' x'):
            body = json.dumps({'token': token}).encode()
            error = self.refused(
                'tags', [(401, {'WWW-Authenticate': challenge}, b''),
                         (200, {}, body), (200, {}, b'{"tags": []}')],
                exceptions.RegistryAuthError, username='robot',
                password='s3cret')
            self.assertIn('not a Bearer token (RFC 6750', str(error))

    def test_gzip_bomb(self):
        # 32 MiB of JSON whitespace in 32 KiB of gzip: refused at the cap
        # in bounded memory, as urllib3 decodes piece by piece (since 2.6,
        # CVE-2025-66471); memory is what would tell a regression.
        bomb = gzip.compress(b' ' * (8 * bodies.LISTING_MAX_BYTES), 6)
        for name in ('manifest', 'tags', 'catalog', 'project'):
            client = client_for([(200, {'Content-Encoding': 'gzip'}, bomb)])
            self.addCleanup(client.close)
            outcome, peak = fuzzing.peak_memory(CALLS[name], client)
            self.assertIsInstance(outcome, exceptions.ApplianceError)
            self.assertIn('larger than' if name == 'manifest'
                          else 'more than', str(outcome))
            self.assertLess(peak, MEMORY_BOUND, name)

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

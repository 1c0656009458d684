"""Parsing ``appliance://`` locations, the store's untrusted input.

Glance keeps these URIs and accepts them from users (its locations API):
every malformed one must be refused as ``BadStoreUri`` naming the
problem, and no text may crash the parser.
"""

from glance_store import exceptions
import hypothesis
from hypothesis import strategies as st
from oslo_config import cfg
import testtools

from stratuslab_plugins.appliance import exceptions as appliance_exceptions
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.image import location as appliance_location
from tests.unit.grid import fuzzing

DIGEST = 'sha256:' + 'ab' * 32


def parse(uri):
    location = appliance_location.StoreLocation({}, cfg.CONF)
    location.parse_uri(uri)
    return location


class StoreLocationTest(testtools.TestCase):

    def test_round_trip_with_tag(self):
        uri = 'appliance://registry.example.org:5000/vo.example/ubuntu:' \
              'glance-1234@' + DIGEST
        location = parse(uri)
        self.assertEqual(('registry.example.org:5000', 'vo.example/ubuntu',
                          'glance-1234', DIGEST),
                         (location.netloc, location.repository, location.tag,
                          location.digest))
        self.assertEqual(uri, location.get_uri())

    def test_round_trip_without_tag(self):
        uri = 'appliance://registry.example.org/egi/centos@' + DIGEST
        location = parse(uri)
        self.assertIsNone(location.tag)
        self.assertEqual(uri, location.get_uri())

    def test_specs_make_the_same_uri(self):
        location = appliance_location.StoreLocation(
            {'netloc': '127.0.0.1:5000', 'repository': 'glance/images',
             'tag': 'glance-x', 'digest': DIGEST}, cfg.CONF)
        self.assertEqual('appliance://127.0.0.1:5000/glance/images:'
                         'glance-x@' + DIGEST, location.get_uri())

    def test_bad_uris_name_the_problem(self):
        cases = {
            'appliance://host/repo:latest': 'names no content digest',
            'appliance://host:port/repo@' + DIGEST: 'port is not a number',
            'appliance://user:pw@host/repo@' + DIGEST: 'credentials',
            'appliance:///repo@' + DIGEST: 'names no registry host',
            'appliance://host/repo@' + DIGEST + '?x=1': 'query',
            'appliance://host/Bad Repo@' + DIGEST: 'Repository name',
            'appliance://host/repo@sha256:abc': 'Digest',
        }
        for uri, problem in cases.items():
            with self.subTest(uri=uri):
                error = self.assertRaises(exceptions.BadStoreUri, parse, uri)
                self.assertIn(problem, str(error))
                self.assertIn(uri, str(error))

    def test_other_scheme_is_refused(self):
        self.assertRaises(exceptions.BadStoreUri, parse,
                          'https://host/v2/repo/blobs/' + DIGEST)


class HostileLocationFuzzTest(testtools.TestCase):
    """Any location text: only BadStoreUri from the store, never a crash."""

    @hypothesis.settings(fuzzing.FUZZ)
    @hypothesis.given(fuzzing.hostile_text | st.sampled_from([
        '[::1', '[::1]:x', 'h:99999999', 'user@h', 'h/../x', '%2F', 'h:',
        '169.254.169.254']), fuzzing.hostile_text)
    def test_locations(self, netloc, path):
        uri = 'appliance://%s/%s@%s' % (netloc, path, DIGEST)
        try:
            parsed = parse(uri)
        except exceptions.BadStoreUri:
            return
        registries = registry.locations.AllowedRegistries(
            'http://127.0.0.1:5000', ['https://partner.example'])
        try:
            url, _ = registries.url_for(parsed.netloc)
        except appliance_exceptions.RegistryNotAllowed as error:
            self.assertIn('allowed registries', str(error))
            return
        self.assertIn(url, ('http://127.0.0.1:5000',
                            'https://partner.example:443'))

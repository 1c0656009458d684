"""Identifiers and references: the Marketplace vector and hostile names."""

import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import identifiers


class StratusLabIdentifierTest(testtools.TestCase):

    def test_marketplace_vector(self):
        self.assertEqual(
            'MMZu9WvwKIro-rtBQfDk4PsKO7_',
            identifiers.stratuslab_identifier(
                'c319bbd5afc0a22ba3eaed0507c39383ec28eeff'))

    def test_small_values_are_left_padded(self):
        self.assertEqual('A' * 26 + 'B',
                         identifiers.stratuslab_identifier('0' * 39 + '1'))
        self.assertEqual('A' * 27,
                         identifiers.stratuslab_identifier('0' * 40))

    def test_largest_value_fits(self):
        self.assertEqual(
            27, len(identifiers.stratuslab_identifier('f' * 40)))

    def test_not_a_sha1(self):
        self.assertRaises(exceptions.InvalidInput,
                          identifiers.stratuslab_identifier, 'xyz')


class ReferenceTest(testtools.TestCase):

    def test_tag(self):
        self.assertEqual(('egi.vo/ubuntu', '22.04', None),
                         identifiers.parse_reference('egi.vo/ubuntu:22.04'))

    def test_default_tag(self):
        self.assertEqual(('a/b', 'latest', None),
                         identifiers.parse_reference('a/b'))

    def test_digest(self):
        digest = 'sha256:' + 'a' * 64
        ref = identifiers.parse_reference('a/b@' + digest)
        self.assertEqual(('a/b', None, digest), ref)
        self.assertEqual('a/b@' + digest, identifiers.format_reference(ref))

    def test_hostile_references_are_refused(self):
        for text in ['../etc/passwd', 'a/../b', 'a//b', '/a', 'a/b/',
                     'A/b', 'a%2Fb', 'a b', 'a\nb', 'a/b:../x',
                     'a/b:t;rm -rf', 'a/b?x=1', 'a/b#x', 'a/b@sha256:xx',
                     'localhost:5000/a/b:c', '', 'a/b:', 'a/b:-x',
                     'a/b@md5:' + 'a' * 32, 'a' * 256, None]:
            e = self.assertRaises(exceptions.InvalidInput,
                                  identifiers.parse_reference, text)
            self.assertIn(repr(text)[:30], str(e))

    def test_identifier(self):
        identifiers.check_identifier(identifiers.new_identifier())
        identifiers.check_identifier('MMZu9WvwKIro-rtBQfDk4PsKO7_')
        for bad in ['../x', 'a/b', 'a b', '', '-x', 'x' * 129, 'a;b', 3]:
            self.assertRaises(exceptions.InvalidInput,
                              identifiers.check_identifier, bad)

"""JSON and YAML site files, read within bounds."""

import hypothesis
from hypothesis import strategies as st
import testtools
import yaml

from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import structured
from tests.unit.grid import fuzzing


class TestStructured(testtools.TestCase):

    def load(self, text):
        return fuzzing.assert_contained(
            self, lambda t: structured.load_json_or_yaml('/run/f', t), text,
            exceptions.SourceFileError)

    def assertRefused(self, text, fragment):
        exc = self.load(text)
        self.assertIsInstance(exc, exceptions.SourceFileError)
        self.assertIn('/run/f', str(exc))
        self.assertIn(fragment, str(exc))

    def test_json_and_yaml(self):
        self.assertEqual({'hosts': {'a': 'batch'}},
                         self.load('{"hosts": {"a": "batch"}}'))
        self.assertEqual({'hosts': {'a': 'batch'}},
                         self.load('hosts:\n  a: batch\n'))

    def test_yaml_aliases_are_refused(self):
        self.assertRefused(fuzzing.alias_bomb(6), 'uses a YAML alias')
        self.assertRefused('a: &x 1\nb: *x\n', 'uses a YAML alias')

    def test_deep_nesting_is_refused(self):
        self.assertRefused(fuzzing.nested(100000), 'nested more than 32')
        self.assertRefused('a:\n' + ''.join(
            '%s- \n' % (' ' * n) for n in range(40)), 'nested more than 32')
        exc = self.assertRaises(exceptions.SourceFileError,
                                structured.load_json, 'f',
                                fuzzing.nested(100000))
        self.assertIn('nested too deeply', str(exc))

    def test_values_yaml_cannot_construct(self):
        # PyYAML's constructors raised ValueError for these.
        self.assertRefused('a: 2026-13-01', 'month must be in 1..12')
        self.assertRefused('a: ' + '1' * 5000, 'YAML cannot read')

    def test_tags_are_refused(self):
        self.assertRefused('a: !!python/object/apply:os.system [ls]',
                           "uses a YAML tag ('tag:yaml.org,2002:python/")
        # Found by the fuzz test: PyYAML's constructors raised
        # AttributeError and IndexError for these.
        for text in ('!!timestamp', '!!int', 'a: !!float x'):
            self.assertRefused(text, 'uses a YAML tag')

    @fuzzing.FUZZ
    @hypothesis.given(st.one_of(
        fuzzing.json_values.map(lambda v: yaml.safe_dump(v)),
        fuzzing.hostile_text,
        st.lists(st.sampled_from(
            ['a:', ' - ', '&x ', '*x', '[', ']', '{', '}', '!!int ',
             '!!timestamp ', '2026-02-30', '<<: ', '\n', '  ', '"',
             "'", '1e999', ': ', ',', '? ']), max_size=30).map(''.join)))
    def test_any_text(self, text):
        self.load(text)

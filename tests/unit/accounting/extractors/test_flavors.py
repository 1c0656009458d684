"""A server's flavor: sizes as Nova gives them, or unknown; never 0.

The lookups themselves (flavor list, flavor read once) are exercised
through the nova extractor in ``test_nova.py``, on Nova's recorded
answers, and against the in-process Nova in ``tests/functional``.
"""

import hypothesis
from hypothesis import strategies
import testtools

from stratuslab_plugins.accounting.extractors import flavors

#: Whatever JSON a proxy could put where Nova puts a flavor's field.
JSON_VALUES = strategies.one_of(
    strategies.none(), strategies.booleans(), strategies.integers(),
    strategies.floats(), strategies.text(max_size=8),
    strategies.lists(strategies.integers(), max_size=2),
    strategies.dictionaries(strategies.text(max_size=4),
                            strategies.text(max_size=4), max_size=2))


class TestFlavor(testtools.TestCase):

    def test_sizes_as_nova_spells_them(self):
        embedded = flavors.Flavor.embedded({
            'vcpus': 2, 'ram': 2048, 'disk': 20, 'ephemeral': 5, 'swap': 0,
            'original_name': 'm1.grid', 'extra_specs': {}})
        listed = flavors.Flavor.listed({
            'id': 'f1', 'name': 'm1.grid', 'vcpus': 2, 'ram': 2048,
            'disk': 20, 'OS-FLV-EXT-DATA:ephemeral': 5, 'swap': ''})
        self.assertEqual((2, 2048, 25, {}), (
            embedded.vcpus, embedded.memory_mb, embedded.disk_gb,
            embedded.extra_specs))
        self.assertEqual((2, 2048, 25, None), (
            listed.vcpus, listed.memory_mb, listed.disk_gb,
            listed.extra_specs))

    def test_a_missing_part_leaves_the_disk_unknown(self):
        self.assertIsNone(flavors.Flavor.embedded({'disk': 20}).disk_gb)
        self.assertIsNone(flavors.Flavor.listed({'disk': 20}).disk_gb)

    @hypothesis.settings(max_examples=80, deadline=None)
    @hypothesis.example(float('inf'), float('nan'), 2.5, '-1', 'x')
    @hypothesis.given(JSON_VALUES, JSON_VALUES, JSON_VALUES, JSON_VALUES,
                      JSON_VALUES)
    def test_any_embedded_flavor_gives_sizes_or_unknown(
            self, vcpus, ram, disk, ephemeral, specs):
        flavor = flavors.Flavor.embedded({
            'vcpus': vcpus, 'ram': ram, 'disk': disk, 'ephemeral': ephemeral,
            'extra_specs': specs})
        for size in (flavor.vcpus, flavor.memory_mb, flavor.disk_gb):
            self.assertTrue(size is None or (isinstance(size, int)
                                             and size >= 0), size)
        self.assertIn(type(flavor.extra_specs), (dict, type(None)))

"""Benchmark checks against a flavor's minimum and quoted value."""

import testtools

from stratuslab_plugins.grid import benchmark


class TestBenchmark(testtools.TestCase):

    def test_minimum(self):
        self.assertTrue(benchmark.meets_minimum(20.0, 20.0))
        self.assertFalse(benchmark.meets_minimum(19.9, 20.0))
        self.assertFalse(benchmark.meets_minimum(None, 1.0))

    def test_tolerance(self):
        self.assertTrue(benchmark.within_tolerance(11.0, 10.0, 0.1))
        self.assertTrue(benchmark.within_tolerance(9.0, 10.0, 0.1))
        self.assertFalse(benchmark.within_tolerance(11.5, 10.0, 0.1))
        self.assertFalse(benchmark.within_tolerance(None, 10.0, 0.1))

    def test_comparable(self):
        self.assertTrue(benchmark.comparable(None))
        self.assertTrue(benchmark.comparable('HEPscore23'))
        self.assertFalse(benchmark.comparable('HEPSPEC06'))

"""GridBenchmarkFilter on Nova's FakeHostState."""

import logging

import fixtures

from stratuslab_plugins.scheduler.filters import benchmark
from tests.unit.scheduler import grid_fakes as gf


class TestGridBenchmarkFilter(gf.SchedulerTestCase):

    def setUp(self):
        super().setUp()
        self.filt = benchmark.GridBenchmarkFilter()
        self.hosts = [
            gf.host('slow', gf.aggregate(grid_hepscore='10')),
            gf.host('fast', gf.aggregate(grid_hepscore='20')),
            gf.host('faster', gf.aggregate(grid_hepscore='21.5')),
            gf.host('unknown'),
            gf.host('bad', gf.aggregate(grid_hepscore='fast')),
        ]

    def run_filter(self, spec):
        return self.passing(self.filt, self.hosts, spec)

    def test_no_demand_passes_everywhere(self):
        self.assertEqual(5, len(self.run_filter(gf.spec())))

    def test_minimum_fails_closed(self):
        self.assertEqual(['fast', 'faster'], self.run_filter(
            gf.spec(grid__min_hepscore='20')))

    def test_quoted_benchmark_within_tolerance(self):
        self.assertEqual(['fast', 'faster'], self.run_filter(gf.spec(
            accounting__benchmark_value='20.5')))
        self.flags(benchmark_tolerance=0.01)
        self.assertEqual(['fast'], self.run_filter(gf.spec(
            accounting__benchmark_type='HEPscore23',
            accounting__benchmark_value='20')))

    def test_other_benchmark_types_are_not_compared(self):
        self.assertEqual(5, len(self.run_filter(gf.spec(
            accounting__benchmark_type='HEPSPEC06',
            accounting__benchmark_value='20'))))

    def test_a_tolerance_that_is_not_finite_is_ignored(self):
        # nan refused every host, inf none.
        logs = self.useFixture(fixtures.FakeLogger(level=logging.WARNING))
        for tolerance in (float('nan'), float('inf')):
            self.flags(benchmark_tolerance=tolerance)
            for _ in range(2):
                self.assertEqual(['fast', 'faster'], self.run_filter(gf.spec(
                    accounting__benchmark_value='20.5')))
        self.assertEqual(1, logs.output.count(
            '[grid_scheduler] benchmark_tolerance=nan is not a number'))
        self.assertEqual(1, logs.output.count(
            'benchmark_tolerance=inf is not a number from 0 to 1e+06; '
            'using the default, 0.1, instead.'))

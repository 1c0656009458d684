"""The site view: one reading of the request for all filters and weighers."""

import logging
import math

import fixtures
import hypothesis
from hypothesis import strategies as st
from nova.scheduler import filters as nova_filters
from nova.scheduler import weights as nova_weights
from oslo_utils import uuidutils

from stratuslab_plugins.scheduler import filters
from stratuslab_plugins.scheduler import weighers
from tests.unit.grid import fuzzing
from tests.unit.grid import test_aggregates
from tests.unit.grid import test_request
from tests.unit.scheduler import grid_fakes as gf


class TestSiteView(gf.SchedulerTestCase):

    def test_request_read_and_warned_about_once(self):
        logs = self.useFixture(fixtures.FakeLogger(level=logging.WARNING))
        spec = gf.spec('p-atlas', hints={'grid_lifetime': 'long'})

        first = self.site.grid_request(spec)
        self.assertIs(first, self.site.grid_request(spec))
        self.assertEqual('atlas', first.vo)
        self.assertIsNone(first.lifetime)
        self.assertEqual(1, logs.output.count(
            "grid_lifetime='long' is not a whole number of seconds"))

        other = self.site.grid_request(gf.spec('p-cms'))
        self.assertEqual('cms', other.vo)

    def test_host_profile_follows_new_aggregate_lists(self):
        host = gf.host('h1', gf.aggregate(grid_hepscore='10'))
        self.assertEqual(10.0, self.site.host_profile(host).hepscore)

        host.aggregates = [gf.aggregate(grid_hepscore='12')]
        self.assertEqual(12.0, self.site.host_profile(host).hepscore)


class TestHostileRequestsAndAggregates(gf.SchedulerTestCase):
    """Any metadata, flavor and hints: Nova's handlers never see a raise."""

    @fuzzing.FUZZ
    @hypothesis.given(
        st.lists(st.lists(test_aggregates.metadata, max_size=2),
                 min_size=1, max_size=3),
        st.dictionaries(st.sampled_from(
            ['grid:vo', 'grid:min_hepscore', 'grid:max_lifetime',
             'grid:preemptible', 'accounting:benchmark_value']),
            st.one_of(fuzzing.numbers_as_text, fuzzing.request_text)),
        st.dictionaries(st.sampled_from(['grid_vo', 'grid_lifetime']),
                        test_request.hint_values),
        st.floats(allow_nan=True, allow_infinity=True))
    def test_filters_and_weighers(self, hosts, specs, hints, multiplier):
        self.conf.config(benchmark_weight_multiplier=multiplier,
                         group='grid_scheduler')
        self.site.__init__(self.conf.conf, vos=gf.VOS)
        states = [gf.host('h%d' % n, *[gf.aggregate(**md) for md in mds],
                          vcpus_total=8, vcpus_used=n, free_ram_mb=1024,
                          total_usable_ram_mb=2048)
                  for n, mds in enumerate(hosts)]
        spec = gf.spec('p-atlas', hints=hints)
        spec.flavor.extra_specs = specs
        spec.instance_uuid = uuidutils.generate_uuid()

        with fixtures.FakeLogger(level=logging.WARNING):
            kept = nova_filters.HostFilterHandler().get_filtered_objects(
                [cls() for cls in filters.all_filters()], states, spec)
            weighed = nova_weights.HostWeightHandler().get_weighed_objects(
                [cls() for cls in weighers.all_weighers()], states, spec)

        self.assertLessEqual(len(list(kept or [])), len(states))
        for weighed_host in weighed:
            self.assertTrue(math.isfinite(weighed_host.weight))

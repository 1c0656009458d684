"""The site view: one reading of the request for all filters and weighers."""

import logging

import fixtures

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

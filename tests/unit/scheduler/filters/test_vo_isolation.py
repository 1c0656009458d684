"""GridVOIsolationFilter on Nova's FakeHostState."""

import logging

import fixtures

from stratuslab_plugins.scheduler.filters import vo_isolation
from tests.unit.scheduler import grid_fakes as gf


class TestGridVOIsolationFilter(gf.SchedulerTestCase):

    def setUp(self):
        super().setUp()
        self.filt = vo_isolation.GridVOIsolationFilter()
        self.hosts = [
            gf.host('atlas1', gf.aggregate(grid_vos='atlas')),
            gf.host('both', gf.aggregate(grid_vos='cms'),
                    gf.aggregate(grid_vos='atlas,lhcb')),
            gf.host('open', gf.aggregate(other='x')),
            gf.host('nobody', gf.aggregate(grid_vos=' , ')),
        ]

    def run_filter(self, spec):
        return self.passing(self.filt, self.hosts, spec)

    def test_project_vo(self):
        self.assertEqual(['atlas1', 'both', 'open'],
                         self.run_filter(gf.spec('p-atlas')))
        self.assertEqual(['both', 'open'],
                         self.run_filter(gf.spec('p-cms')))

    def test_debug_log_names_the_refused_hosts(self):
        log = self.useFixture(fixtures.FakeLogger(
            name='stratuslab_plugins.scheduler.filters.base',
            level=logging.DEBUG))
        self.run_filter(gf.spec('p-cms'))
        self.assertIn('GridVOIsolationFilter refused atlas1, nobody for '
                      'GridRequest(vo=\'cms\'', log.output)

    def test_no_refusal_log_without_debug(self):
        log = self.useFixture(fixtures.FakeLogger(
            name='stratuslab_plugins.scheduler.filters.base',
            level=logging.INFO))
        self.run_filter(gf.spec('p-cms'))
        self.assertEqual('', log.output)

    def test_flavor_then_hint_win(self):
        self.assertEqual(['both', 'open'], self.run_filter(
            gf.spec('p-atlas', hints={'grid_vo': 'cms'})))
        self.assertEqual(['both', 'open'], self.run_filter(
            gf.spec('p-atlas', hints={'grid_vo': 'atlas'}, grid__vo='lhcb')))

    def test_no_vo_stays_off_dedicated_hosts(self):
        self.assertEqual(['open'], self.run_filter(gf.spec('unmapped')))

    def test_no_vo_allowed_by_option(self):
        self.flags(allow_unmapped_on_dedicated=True)

        self.assertEqual(['atlas1', 'both', 'open', 'nobody'],
                         self.run_filter(gf.spec('unmapped')))

    def test_host_passes_agrees(self):
        spec = gf.spec('p-cms')
        self.assertEqual([h.host for h in self.hosts
                          if self.filt.host_passes(h, spec)],
                         self.run_filter(spec))

    def test_rebuild_passes_everywhere(self):
        spec = gf.spec('p-cms', hints={'_nova_check_type': 'rebuild'})
        self.assertEqual(4, len(self.run_filter(spec)))

    def test_runs_once_per_request(self):
        self.assertTrue(self.filt.run_filter_once_per_request)

    def test_a_vo_hint_given_twice_is_ignored_with_a_warning(self):
        # Nova hands a list for a hint given twice: the filter raised
        # TypeError (unhashable) for every host.
        logs = self.useFixture(fixtures.FakeLogger(level=logging.WARNING))
        self.assertEqual(['atlas1', 'both', 'open'], self.run_filter(
            gf.spec('p-atlas', hints={'grid_vo': ['cms', 'lhcb']})))
        self.assertIn('grid_vo=a list is not a VO name', logs.output)

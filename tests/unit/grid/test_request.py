"""The grid side of a request: which source wins."""

import testtools

from stratuslab_plugins.grid import request
from stratuslab_plugins.grid import vo_map

VOS = vo_map.VOMap({'p-atlas': 'atlas'})


class TestBuildRequest(testtools.TestCase):

    def build(self, specs=None, hints=None, project='p-atlas'):
        return request.build_request(specs or {}, hints or {}, project, VOS)

    def test_vo_precedence(self):
        self.assertEqual('atlas', self.build().vo)
        self.assertEqual('cms', self.build(hints={'grid_vo': 'cms'}).vo)
        self.assertEqual('lhcb', self.build({'grid:vo': 'lhcb'},
                                            {'grid_vo': 'cms'}).vo)
        self.assertIsNone(self.build(project='other').vo)

    def test_lifetime_is_the_smaller(self):
        self.assertIsNone(self.build().lifetime)
        self.assertEqual(60, self.build({'grid:max_lifetime': '60'}).lifetime)
        self.assertEqual(30, self.build({'grid:max_lifetime': '60'},
                                        {'grid_lifetime': '30'}).lifetime)
        self.assertEqual(60, self.build({'grid:max_lifetime': '60'},
                                        {'grid_lifetime': '90'}).lifetime)

    def test_flavor_values(self):
        req = self.build({'grid:preemptible': 'true',
                          'grid:min_hepscore': '12.5',
                          'accounting:benchmark_type': 'HEPscore23',
                          'accounting:benchmark_value': '15'})

        self.assertTrue(req.preemptible)
        self.assertEqual(12.5, req.min_hepscore)
        self.assertEqual('HEPscore23', req.benchmark_type)
        self.assertEqual(15.0, req.benchmark_value)
        self.assertEqual((), req.problems)

    def test_malformed_values_are_reported_and_unset(self):
        req = self.build({'grid:min_hepscore': 'fast',
                          'grid:preemptible': 'maybe'},
                         {'grid_lifetime': 'long'})

        self.assertIsNone(req.min_hepscore)
        self.assertFalse(req.preemptible)
        self.assertIsNone(req.lifetime)
        self.assertEqual(3, len(req.problems))

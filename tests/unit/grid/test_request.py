"""The grid side of a request: which source wins."""

import hypothesis
from hypothesis import strategies as st
import testtools

from stratuslab_plugins.grid import downtime
from stratuslab_plugins.grid import keys
from stratuslab_plugins.grid import request
from stratuslab_plugins.grid import values
from stratuslab_plugins.grid import vo_map
from tests.unit.grid import fuzzing

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

    def test_review_probes(self):
        # A 401-digit lifetime was read, then overflowed now + lifetime in
        # the downtime filter; a VO hint given twice (a list) made the VO
        # isolation filter raise TypeError.
        req = self.build({'grid:max_lifetime': '9' * 401},
                         {'grid_lifetime': '9' * 401,
                          'grid_vo': ['atlas', 'cms']})

        self.assertIsNone(req.lifetime)
        self.assertEqual('atlas', req.vo)
        self.assertEqual(3, len(req.problems))
        problems = '; '.join(str(p) for p in req.problems)
        self.assertIn('grid_vo=a list is not a VO name', problems)
        self.assertEqual(2, problems.count(
            '(401 characters) is not a whole number of seconds'))

    def test_a_bad_flavor_vo_falls_back_to_the_hint(self):
        req = self.build({'grid:vo': 'at las'}, {'grid_vo': 'cms'})
        self.assertEqual('cms', req.vo)
        self.assertEqual(1, len(req.problems))


hint_values = st.one_of(fuzzing.numbers_as_text, fuzzing.request_text,
                        st.lists(fuzzing.request_text, max_size=3))


class TestBuildRequestFuzz(testtools.TestCase):

    @fuzzing.FUZZ
    @hypothesis.given(
        st.dictionaries(st.sampled_from([
            keys.EXTRA_SPEC_VO, keys.EXTRA_SPEC_MIN_HEPSCORE,
            keys.EXTRA_SPEC_MAX_LIFETIME, keys.EXTRA_SPEC_PREEMPTIBLE,
            keys.EXTRA_SPEC_BENCHMARK_TYPE,
            keys.EXTRA_SPEC_BENCHMARK_VALUE]),
            st.one_of(fuzzing.numbers_as_text, fuzzing.request_text)),
        st.dictionaries(st.sampled_from([keys.HINT_VO, keys.HINT_LIFETIME]),
                        hint_values))
    def test_any_flavor_and_hints(self, specs, hints):
        req = fuzzing.assert_bounded(
            self, request.build_request, specs, hints, 'p-atlas', VOS,
            size=fuzzing.input_size((specs, hints)))

        self.assertTrue(req.lifetime is None
                        or 0 <= req.lifetime <= values.MAX_LIFETIME)
        self.assertIsInstance(req.vo, str)
        for number in (req.min_hepscore, req.benchmark_value):
            self.assertTrue(number is None or 0 < number < 1e10)
        # What the downtime filter computes with it.
        downtime.blocks([downtime.Window(0.0, 1.0)], 1e9, req.lifetime)
        for problem in req.problems:
            self.assertLess(len(str(problem)), 400)

"""nova-api refuses every grid: extra spec the filters would refuse.

The validators run as nova-api runs them: Nova's ``validators.validate``
with our entry point loaded; the filters' reading is
``grid.request.build_request``.
"""

import hypothesis
from hypothesis import strategies as st
from nova.api.validation.extra_specs import validators
from nova import exception
import testtools

from stratuslab_plugins.grid import keys
from stratuslab_plugins.grid import request
from stratuslab_plugins.grid import values
from stratuslab_plugins.grid import vo_map
from tests.unit.grid import fuzzing

GRID_SPECS = (keys.EXTRA_SPEC_VO, keys.EXTRA_SPEC_MIN_HEPSCORE,
              keys.EXTRA_SPEC_MAX_LIFETIME, keys.EXTRA_SPEC_PREEMPTIBLE)


def api_accepts(name, value):
    try:
        validators.validate(name, value)
    except exception.ValidationError:
        return False
    return True


def filters_accept(name, value):
    return not request.build_request({name: value}, {}, None,
                                     vo_map.VOMap()).problems


class TestExtraSpecValidators(testtools.TestCase):

    def test_review_probes_are_refused_by_the_api(self):
        # Each passed nova-api, then overflowed or was ignored in the
        # filters.
        for name, value in ((keys.EXTRA_SPEC_MAX_LIFETIME, '9' * 401),
                            (keys.EXTRA_SPEC_MAX_LIFETIME,
                             str(values.MAX_LIFETIME + 1)),
                            (keys.EXTRA_SPEC_MIN_HEPSCORE, '9' * 401),
                            (keys.EXTRA_SPEC_MIN_HEPSCORE, '0'),
                            (keys.EXTRA_SPEC_MIN_HEPSCORE, '0.0'),
                            (keys.EXTRA_SPEC_VO, 'a' * 256)):
            self.assertFalse(api_accepts(name, value), (name, value))
            self.assertFalse(filters_accept(name, value), (name, value))

    def test_what_the_api_takes_the_filters_take(self):
        for name, value in ((keys.EXTRA_SPEC_PREEMPTIBLE, 't'),
                            (keys.EXTRA_SPEC_PREEMPTIBLE, 'N'),
                            (keys.EXTRA_SPEC_MAX_LIFETIME, ' 60 '),
                            (keys.EXTRA_SPEC_MAX_LIFETIME,
                             str(values.MAX_LIFETIME)),
                            (keys.EXTRA_SPEC_MIN_HEPSCORE, '999999999.5'),
                            (keys.EXTRA_SPEC_VO, 'a' * 255)):
            self.assertTrue(api_accepts(name, value), (name, value))
            self.assertTrue(filters_accept(name, value), (name, value))

    @fuzzing.FUZZ
    @hypothesis.given(st.sampled_from(GRID_SPECS), st.one_of(
        fuzzing.numbers_as_text, fuzzing.request_text,
        st.from_regex(values.VO_PATTERN, fullmatch=True),
        st.from_regex(values.POSITIVE_NUMBER_PATTERN, fullmatch=True)))
    def test_the_api_refuses_what_the_filters_refuse(self, name, value):
        if fuzzing.assert_bounded(self, api_accepts, name, value):
            self.assertTrue(fuzzing.assert_bounded(
                self, filters_accept, name, value), (name, value))

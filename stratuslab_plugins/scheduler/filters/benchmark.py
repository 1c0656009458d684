"""GridBenchmarkFilter: fast enough hosts, and accounting that stays true.

* A flavor's ``grid:min_hepscore`` keeps hosts whose per-core
  ``grid_hepscore`` is at least that.
* A flavor's ``accounting:benchmark_value`` (with
  ``accounting:benchmark_type`` absent or ``HEPscore23``) keeps hosts whose
  ``grid_hepscore`` is within ``[grid_scheduler] benchmark_tolerance`` of
  it: the accounting quotes the flavor's value in every usage record, so
  the instance must run where that value is true. Other benchmark types
  are not comparable with HEPscore23 and are not checked.

Fails closed: when the flavor asks, a host with no ``grid_hepscore`` (or
an unreadable one, warned about once) cannot prove its speed and is
refused. Flavors that ask nothing pass everywhere.
"""

from stratuslab_plugins.grid import benchmark
from stratuslab_plugins.grid import values
from stratuslab_plugins.scheduler.filters import base


class GridBenchmarkFilter(base.GridFilter):
    """Match hosts' HEPscore23 to the flavor's minimum and quoted value."""

    def prepare(self, spec_obj):
        req = self.site.grid_request(spec_obj)
        quoted = (req.benchmark_value
                  if benchmark.comparable(req.benchmark_type) else None)
        tolerance = None
        if quoted is not None:
            tolerance = self.site.number_option(
                'benchmark_tolerance', _parse_tolerance)
        return req.min_hepscore, quoted, tolerance

    def passes_all(self, prepared):
        # A flavor that asks nothing needs no look at the hosts.
        return prepared[:2] == (None, None)

    def passes(self, host_state, prepared):
        minimum, quoted, tolerance = prepared
        score = self.site.host_profile(host_state).hepscore
        if minimum is not None and not benchmark.meets_minimum(score,
                                                               minimum):
            return False
        if quoted is not None and not benchmark.within_tolerance(
                score, quoted, tolerance):
            return False
        return True


def _parse_tolerance(key, value):
    # A NaN tolerance would refuse every host, an infinite one none.
    return values.parse_finite(key, value, 0.0, values.MAX_MULTIPLIER)

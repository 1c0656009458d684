"""GridBenchmarkWeigher: prefer hosts with faster cores.

Weight: the host's per-core HEPscore23 (``grid_hepscore``, the lowest of
its aggregates), 0 when undeclared or unreadable. With a positive
multiplier the fastest hosts fill first; a negative one keeps them free
for flavors that need them (``grid:min_hepscore``).
"""

from stratuslab_plugins.grid import keys
from stratuslab_plugins.scheduler.weighers import base


class GridBenchmarkWeigher(base.GridWeigher):
    """Weigh hosts by per-core HEPscore23."""

    option = 'benchmark_weight_multiplier'
    aggregate_key = keys.AGGREGATE_BENCHMARK_WEIGHT_MULTIPLIER

    def weigh_hosts(self, host_states, spec_obj):
        return [self.site.host_profile(h).hepscore or 0.0
                for h in host_states]

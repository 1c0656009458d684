"""The contract names: aggregate metadata, flavor extra specs, hints.

Operators type these names into ``openstack aggregate set --property`` and
``openstack flavor set --property``; the filters, weighers, extra-spec
validators, accounting and docs all import them from here, so a name is
written once. Renaming one breaks existing sites: it needs a release note.
"""

# Aggregate metadata keys (values are strings; lists are comma-separated).
AGGREGATE_VOS = 'grid_vos'
AGGREGATE_PARTITION = 'grid_partition'
AGGREGATE_DOWNTIME = 'grid_downtime'
AGGREGATE_HEPSCORE = 'grid_hepscore'
AGGREGATE_FAILURE_DOMAIN = 'grid_failure_domain'
AGGREGATE_ENERGY_EFFICIENCY = 'grid_energy_efficiency'
AGGREGATE_POWER_STATE = 'grid_power_state'

# Values of grid_partition and grid_power_state.
PARTITION_CLOUD = 'cloud'
PARTITION_BATCH = 'batch'
PARTITION_SHARED = 'shared'
PARTITIONS = (PARTITION_CLOUD, PARTITION_BATCH, PARTITION_SHARED)
POWER_ON = 'on'
POWER_STANDBY = 'standby'
POWER_STATES = (POWER_ON, POWER_STANDBY)

# Flavor extra specs in the ``grid:`` namespace.
EXTRA_SPEC_NAMESPACE = 'grid'
EXTRA_SPEC_VO = 'grid:vo'
EXTRA_SPEC_MIN_HEPSCORE = 'grid:min_hepscore'
EXTRA_SPEC_MAX_LIFETIME = 'grid:max_lifetime'
EXTRA_SPEC_PREEMPTIBLE = 'grid:preemptible'

# Flavor extra specs cASO reads for the accounting benchmark; honoured too.
EXTRA_SPEC_BENCHMARK_TYPE = 'accounting:benchmark_type'
EXTRA_SPEC_BENCHMARK_VALUE = 'accounting:benchmark_value'

# Scheduler hints.
HINT_VO = 'grid_vo'
HINT_LIFETIME = 'grid_lifetime'

# The benchmark the aggregate key carries.
BENCHMARK_TYPE_HEPSCORE = 'HEPscore23'

# Per-aggregate overrides of the grid weighers' multipliers, read the way
# Nova reads ``cpu_weight_multiplier`` from aggregate metadata.
AGGREGATE_ENERGY_WEIGHT_MULTIPLIER = 'grid_energy_weight_multiplier'
AGGREGATE_BENCHMARK_WEIGHT_MULTIPLIER = 'grid_benchmark_weight_multiplier'
AGGREGATE_RESILIENCE_WEIGHT_MULTIPLIER = 'grid_resilience_weight_multiplier'
AGGREGATE_DRAIN_WEIGHT_MULTIPLIER = 'grid_drain_weight_multiplier'

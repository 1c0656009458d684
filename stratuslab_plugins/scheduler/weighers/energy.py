"""GridEnergyWeigher: fill busy, efficient, powered-on hosts first.

Consolidating instances lets idle hosts be put in standby; among hosts
equally busy, the one doing more HEPscore per watt
(``grid_energy_efficiency``) is preferred; hosts whose aggregate says
``grid_power_state=standby`` come last, so they wake only when the others
are full.

Weight: ``-1`` for a standby host, otherwise its use (the larger of the
used fractions of vCPUs and RAM, 0 to 1) plus its efficiency divided by
the best efficiency among the candidates (0 to 1; 0 when not declared).
An unreadable efficiency counts as undeclared (warned once).
"""

from stratuslab_plugins.grid import keys
from stratuslab_plugins.scheduler.weighers import base

STANDBY_WEIGHT = -1.0


def host_use(host_state):
    """The used fraction of the host's vCPUs or RAM, whichever is larger."""
    cpu = (host_state.vcpus_used / host_state.vcpus_total
           if host_state.vcpus_total else 0.0)
    total_ram = host_state.total_usable_ram_mb
    ram = (1.0 - host_state.free_ram_mb / total_ram) if total_ram else 0.0
    return min(max(cpu, ram, 0.0), 1.0)


class GridEnergyWeigher(base.GridWeigher):
    """Consolidate onto busy, efficient, powered-on hosts."""

    option = 'energy_weight_multiplier'
    aggregate_key = keys.AGGREGATE_ENERGY_WEIGHT_MULTIPLIER

    def weigh_hosts(self, host_states, spec_obj):
        profiles = [self.site.host_profile(h) for h in host_states]
        best = max((p.energy_efficiency for p in profiles
                    if p.energy_efficiency is not None), default=None)
        weights = []
        for host, profile in zip(host_states, profiles):
            if profile.standby:
                weights.append(STANDBY_WEIGHT)
                continue
            efficiency = profile.energy_efficiency
            bonus = efficiency / best if efficiency is not None else 0.0
            weights.append(host_use(host) + bonus)
        return weights

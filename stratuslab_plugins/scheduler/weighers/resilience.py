"""GridResilienceWeigher: spread one VO's instances across failure domains.

A VO running many instances should not lose them all to one power or
network failure. Hosts declare their failure domain in
``grid_failure_domain`` (a rack, a room, a power feed); a host without one
is its own domain. The weight of a host is minus the number of instances
of the request's VO (all projects of that VO in the VO map) already in its
domain, among the candidate hosts; with no VO, the request's project
stands for it.

Nova knows a host's instances only with ``[filter_scheduler]
track_instance_changes = true`` (the default); without it every weight is
0. Instances placed by the same multi-create are not yet in the hosts'
instance lists, so one multi-create is not spread by this weigher: use a
server group with the ``soft-anti-affinity`` policy for that.
"""

import collections

from stratuslab_plugins.grid import keys
from stratuslab_plugins.scheduler.weighers import base


class GridResilienceWeigher(base.GridWeigher):
    """Prefer failure domains where the VO has the fewest instances."""

    option = 'resilience_weight_multiplier'
    aggregate_key = keys.AGGREGATE_RESILIENCE_WEIGHT_MULTIPLIER

    def _projects(self, spec_obj):
        vo = self.site.grid_request(spec_obj).vo
        projects = self.site.vos.projects_for_vo(vo) if vo else set()
        if spec_obj.project_id:
            projects.add(spec_obj.project_id)
        return projects

    def weigh_hosts(self, host_states, spec_obj):
        projects = self._projects(spec_obj)
        domains = [self.site.host_profile(h).failure_domain
                   or ('host', h.host) for h in host_states]
        counts = collections.Counter()
        for host, domain in zip(host_states, domains):
            counts[domain] += sum(1 for inst in host.instances.values()
                                  if inst.project_id in projects)
        return [-float(counts[domain]) for domain in domains]

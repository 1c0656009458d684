"""GridPartitionFilter: batch worker nodes take only preemptible instances.

A host's partition state is the batch status file's entry for it
(``[grid_scheduler] partition_status_file``), else the most restrictive
``grid_partition`` of its aggregates. ``batch`` hosts take only flavors
with ``grid:preemptible=true``; ``cloud``, ``shared``, ``draining`` and
hosts with no state take everything.

Fails open: an unreadable ``grid_partition`` value is ignored with one
warning (the host counts as a cloud host), and a malformed status file
leaves its last good content in force. The batch system keeps its own
resource limits, while refusing hosts over a typo would shrink the cloud.
"""

from stratuslab_plugins.grid import partition
from stratuslab_plugins.scheduler.filters import base
from stratuslab_plugins.scheduler import site


class GridPartitionFilter(base.GridFilter):
    """Keep non-preemptible instances off batch worker nodes."""

    def prepare(self, spec_obj):
        return (self.site.grid_request(spec_obj).preemptible,
                self.site.partition_status())

    def passes_all(self, prepared):
        preemptible, _status = prepared
        return preemptible

    def passes(self, host_state, prepared):
        preemptible, status = prepared
        state = None
        if status:
            state = partition.status_for(status, site.host_names(host_state))
        if state is None:
            state = self.site.host_profile(host_state).partition
        return partition.accepts(state, preemptible)

"""GridDrainWeigher: choose whether hosts draining from batch fill first.

When the batch system drains a worker node to hand it to the cloud, the
status file (``[grid_scheduler] partition_status_file``) says
``draining``. Weight: 1 for such a host, 0 otherwise. A positive
multiplier fills draining hosts first (the cloud takes them over sooner);
a negative one spares them, so the batch system can take them back
without evicting anyone.
"""

from stratuslab_plugins.grid import keys
from stratuslab_plugins.grid import partition
from stratuslab_plugins.scheduler import site
from stratuslab_plugins.scheduler.weighers import base


class GridDrainWeigher(base.GridWeigher):
    """Weigh hosts the batch system is draining."""

    option = 'drain_weight_multiplier'
    aggregate_key = keys.AGGREGATE_DRAIN_WEIGHT_MULTIPLIER

    def weigh_hosts(self, host_states, spec_obj):
        status = self.site.partition_status()
        if not status:
            return [0.0] * len(host_states)
        return [1.0 if partition.status_for(status, site.host_names(h))
                == partition.STATE_DRAINING else 0.0 for h in host_states]

"""What every grid weigher shares: the request read once, multipliers.

Nova calls ``weigh_objects(weighed_hosts, spec_obj)`` once per instance;
grid weighers read the request and the site once there and weigh each
host with :meth:`GridWeigher.weigh_hosts`, which sees all the hosts when a
weight depends on the others (failure domains, the best efficiency).

Each weigher's multiplier comes from ``[grid_scheduler]`` and is
overridden per aggregate by a ``grid_*_weight_multiplier`` key, through
Nova's own ``get_weight_multiplier`` (so a bad value there is handled and
warned about the way Nova does for its weighers).
"""

from nova.scheduler import utils as scheduler_utils
from nova.scheduler import weights

from stratuslab_plugins.scheduler import site


class GridWeigher(weights.BaseHostWeigher):
    """Base of the grid weighers.

    Subclasses set :attr:`option` (the ``[grid_scheduler]`` multiplier) and
    :attr:`aggregate_key`, and write :meth:`weigh_hosts`.
    """

    option = None
    aggregate_key = None

    def __init__(self):
        super().__init__()
        self.site = site.get_site()

    def weight_multiplier(self, host_state):
        return scheduler_utils.get_weight_multiplier(
            host_state, self.aggregate_key,
            getattr(self.site.options, self.option))

    def weigh_hosts(self, host_states, spec_obj):
        """Return one weight per host, in order; higher is preferred."""
        raise NotImplementedError()

    def weigh_objects(self, weighed_obj_list, weight_properties):
        return self.weigh_hosts([w.obj for w in weighed_obj_list],
                                weight_properties)

    def _weigh_object(self, host_state, weight_properties):
        return self.weigh_hosts([host_state], weight_properties)[0]

"""What every grid weigher shares: the request read once, multipliers.

Nova calls ``weigh_objects(weighed_hosts, spec_obj)`` once per instance;
grid weighers read the request and the site once there and weigh each
host with :meth:`GridWeigher.weigh_hosts`, which sees all the hosts when a
weight depends on the others (failure domains, the best efficiency).

Each weigher's multiplier comes from ``[grid_scheduler]`` and is
overridden per aggregate by a ``grid_*_weight_multiplier`` key, with
Nova's rule (the lowest value when a host's aggregates disagree). The
keys are read from the aggregate facts parsed once per aggregate, rather
than through Nova's ``get_weight_multiplier``, which reads and converts
every aggregate's metadata again for every host and weigher (a quarter of
the grid weighers' time over 10,000 hosts); a bad value is warned about
once per aggregate instead of once per host and request.
"""

from nova.scheduler import weights

from stratuslab_plugins.grid import values
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
        self._configured = self._read_option()

    def _read_option(self):
        # A nan or inf in nova.conf is ignored with a warning (the
        # default applies), as is one in an aggregate (the option applies).
        return self.site.number_option(self.option, values.parse_multiplier)

    def weight_multiplier(self, host_state):
        if self.aggregate_key not in self.site.aggregates.multiplier_keys:
            return self._configured
        multiplier = self.site.host_profile(host_state).multipliers.get(
            self.aggregate_key)
        return self._configured if multiplier is None else multiplier

    def weigh_hosts(self, host_states, spec_obj):
        """Return one weight per host, in order; higher is preferred."""
        raise NotImplementedError()

    def weigh_objects(self, weighed_obj_list, weight_properties):
        # Nova asks weight_multiplier() once per host right after this:
        # read the option once per request, not once per host.
        self._configured = self._read_option()
        return self.weigh_hosts([w.obj for w in weighed_obj_list],
                                weight_properties)

    def _weigh_object(self, host_state, weight_properties):
        return self.weigh_hosts([host_state], weight_properties)[0]

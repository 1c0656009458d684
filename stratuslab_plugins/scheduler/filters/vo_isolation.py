"""GridVOIsolationFilter: hosts dedicated to VOs take only those VOs.

Hosts in an aggregate with ``grid_vos=atlas,cms`` accept only requests
whose VO is listed; hosts in no such aggregate accept everyone. The
request's VO is the flavor's ``grid:vo``, else the hint ``grid_vo``, else
the project's VO from the VO map. A request with no VO stays off dedicated
hosts unless ``[grid_scheduler] allow_unmapped_on_dedicated`` is true.

Fails closed: isolation is a boundary between VOs that paid for capacity,
so a ``grid_vos`` set to an empty list dedicates the host to nobody, and a
project missing from the VO map (Keystone unreachable since start-up)
is a request with no VO. The one value it cannot read is none: any
string is a list of names.
"""

from stratuslab_plugins.scheduler.filters import base


class GridVOIsolationFilter(base.GridFilter):
    """Keep VO-dedicated hosts for their VOs."""

    def passes(self, host_state, prepared):
        vos = self.site.host_profile(host_state).vos
        if vos is None:
            return True
        if prepared.vo is None:
            return self.site.options.allow_unmapped_on_dedicated
        return prepared.vo in vos

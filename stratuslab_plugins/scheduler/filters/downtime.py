"""GridDowntimeFilter: no new instance on a host in, or soon in, downtime.

Rejects hosts inside a downtime window, and hosts whose next window starts
before the instance's expected end (``now`` plus the smaller of the
flavor's ``grid:max_lifetime`` and the hint ``grid_lifetime``). Windows
come from the aggregates' ``grid_downtime`` and from
``[grid_scheduler] downtime_file`` (text, GOCDB XML or JSON, re-read when
it changes).

Fails open: a window that cannot be read (a bad date in the aggregate, a
malformed file) is ignored with one warning, and the file's last good
content stays in force. Refusing every host over a typo would stop the
whole cloud; a missed downtime costs the instances on one host.
"""

from stratuslab_plugins.grid import downtime
from stratuslab_plugins.scheduler.filters import base
from stratuslab_plugins.scheduler import site


class GridDowntimeFilter(base.GridFilter):
    """Keep instances off hosts with a downtime before their end."""

    def prepare(self, spec_obj):
        return (self.site.grid_request(spec_obj).lifetime, site.now(),
                self.site.downtime_table())

    def passes(self, host_state, prepared):
        lifetime, now, table = prepared
        windows = self.site.host_profile(host_state).downtimes
        if table:
            windows = windows + table.windows_for(site.host_names(host_state))
        return not downtime.blocks(windows, now, lifetime)

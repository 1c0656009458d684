"""From Nova's aggregates to one row per host, with its grid metadata.

The parsing and combining rules are the scheduler's own
(:mod:`stratuslab_plugins.grid.aggregates`), so the panel shows what the
grid filters and weighers decide on, and flags the values they ignore.
"""

import datetime

from stratuslab_plugins.grid import aggregates as grid_aggregates
from stratuslab_plugins.grid import downtime
from stratuslab_plugins.grid import keys

UTC = datetime.timezone.utc


def _format_window(window, now):
    start = datetime.datetime.fromtimestamp(window.start, UTC)
    end = datetime.datetime.fromtimestamp(window.end, UTC)
    text = '%s/%s' % (start.strftime('%Y-%m-%dT%H:%MZ'),
                      end.strftime('%Y-%m-%dT%H:%MZ'))
    if downtime.blocks([window], now):
        text += ' (now)'
    return text


class HostRow:
    """What the Hosts table shows of one compute host."""

    def __init__(self, host, members, now):
        self.id = self.host = host
        self.aggregates = sorted(name for name, _facts, _bad in members)
        profile = grid_aggregates.combine([facts for _n, facts, _b in members])
        self.vos = (', '.join(sorted(profile.vos))
                    if profile.vos is not None else None)
        self.partition = profile.partition or keys.PARTITION_CLOUD
        self.downtimes = [_format_window(w, now) for w in
                          sorted(profile.downtimes) if w.end > now]
        self.in_downtime = downtime.blocks(profile.downtimes, now)
        self.hepscore = profile.hepscore
        self.failure_domain = profile.failure_domain
        self.power_state = (keys.POWER_STANDBY if profile.standby
                            else keys.POWER_ON)
        self.problems = ['%s: %s' % (name, problem)
                         for name, _facts, problems in members
                         for problem in problems]


def rows_for(aggregates, now=None):
    """Return one :class:`HostRow` per host of any aggregate, by name."""
    now = now or datetime.datetime.now(UTC).timestamp()
    members = {}
    for aggregate in aggregates:
        facts, problems = grid_aggregates.parse_metadata(
            aggregate.metadata or {})
        for host in aggregate.hosts or ():
            members.setdefault(host, []).append(
                (aggregate.name, facts, problems))
    return [HostRow(host, members[host], now) for host in sorted(members)]

"""From Nova's aggregates and the site files to one row per compute host.

The parsing and combining rules are the scheduler's own
(:mod:`stratuslab_plugins.grid.aggregates`), so the panel shows what the
grid filters and weighers decide on, and flags the values they ignore.
nova-scheduler also reads two live files written by other tools: the
downtime file (GOCDB's downtimes) and the batch status file (which hosts
the batch system holds). Where Horizon can read them too (it usually runs
on the same controller), ``local_settings.py`` names them and the rows
show them, marked as coming from them.
"""

import datetime

from stratuslab_plugins.grid import aggregates as grid_aggregates
from stratuslab_plugins.grid import downtime
from stratuslab_plugins.grid import exceptions as grid_exceptions
from stratuslab_plugins.grid import keys
from stratuslab_plugins.grid import partition
from stratuslab_plugins.grid import watched_file

UTC = datetime.timezone.utc
#: How a downtime window or a partition state from a site file is marked.
FROM_DOWNTIME_FILE = ' (downtime file)'
FROM_STATUS_FILE = ' (status file)'


def read_site_file(path, parse, empty):
    """Return ``(content, problem)`` of one of the scheduler's site files.

    ``problem`` names the file and what is wrong with it, or is None. The
    page must not fail over a file another tool is rewriting.
    """
    if not path:
        return empty, None
    try:
        return watched_file.load_site_file(path, parse), None
    except grid_exceptions.GridError as exc:
        return empty, str(exc)


class SiteFiles:
    """The scheduler's downtime and batch status files, read for one page.

    :param downtime_file: ``[grid_scheduler] downtime_file``, or None.
    :param site_endpoints: ``[grid_scheduler] downtime_site_endpoints``.
    :param status_file: ``[grid_scheduler] partition_status_file``.
    """

    def __init__(self, downtime_file=None, site_endpoints=(),
                 status_file=None):
        table, downtime_problem = read_site_file(
            downtime_file, downtime.parse_downtime_file, {})
        self.downtimes = downtime.DowntimeTable(table, site_endpoints)
        self.status, status_problem = read_site_file(
            status_file, partition.parse_status_file, {})
        self.problems = [problem for problem in (downtime_problem,
                                                 status_problem) if problem]


def _format_window(window, now, mark=''):
    start = datetime.datetime.fromtimestamp(window.start, UTC)
    end = datetime.datetime.fromtimestamp(window.end, UTC)
    text = '%s/%s' % (start.strftime('%Y-%m-%dT%H:%MZ'),
                      end.strftime('%Y-%m-%dT%H:%MZ'))
    if downtime.blocks([window], now):
        text += ' (now)'
    return text + mark


class HostRow:
    """What the Hosts table shows of one compute host.

    :param members: ``[(aggregate name, facts, problems)]`` of the host.
    :param files: the :class:`SiteFiles` of the page.
    """

    def __init__(self, host, members, now, files):
        names = downtime.host_names(host)
        self.id = self.host = host
        self.aggregates = sorted(name for name, _facts, _bad in members)
        profile = grid_aggregates.combine([facts for _n, facts, _b in members])
        self.vos = (', '.join(sorted(profile.vos))
                    if profile.vos is not None else None)
        live = partition.status_for(files.status, names)
        self.partition = live or profile.partition or keys.PARTITION_CLOUD
        self.partition_source = FROM_STATUS_FILE if live else ''
        from_file = files.downtimes.windows_for(names)
        self.downtimes = [
            _format_window(window, now, mark)
            for window, mark in sorted(
                [(w, '') for w in profile.downtimes]
                + [(w, FROM_DOWNTIME_FILE) for w in from_file])
            if window.end > now]
        self.in_downtime = downtime.blocks(
            tuple(profile.downtimes) + tuple(from_file), now)
        self.hepscore = profile.hepscore
        self.failure_domain = profile.failure_domain
        self.power_state = (keys.POWER_STANDBY if profile.standby
                            else keys.POWER_ON)
        self.problems = ['%s: %s' % (name, problem)
                         for name, _facts, problems in members
                         for problem in problems]


def rows_for(aggregates, now=None, hosts=(), files=None):
    """Return one :class:`HostRow` per host, by name.

    :param hosts: Nova's compute hosts; those in no aggregate get a row
        too (every request is welcome there).
    :param files: the :class:`SiteFiles` of the page, or None.
    """
    now = now or datetime.datetime.now(UTC).timestamp()
    files = files or SiteFiles()
    members = {host: [] for host in hosts}
    for aggregate in aggregates:
        facts, problems = grid_aggregates.parse_metadata(
            aggregate.metadata or {})
        for host in aggregate.hosts or ():
            members.setdefault(host, []).append(
                (aggregate.name, facts, problems))
    return [HostRow(host, members[host], now, files)
            for host in sorted(members)]

"""The site as nova-scheduler sees it: one shared view per process.

Every grid filter and weigher of a scheduler process reads the same VO
map, the same aggregate cache (so an aggregate is parsed once whatever the
number of filters reading it) and the same watched downtime and status
files. This module builds that view from Nova's configuration, and turns a
Nova request spec and host state into the plain values ``grid/`` expects.
"""

import logging
import threading
import time

from oslo_config import cfg

from stratuslab_plugins.conf import grid as grid_conf
from stratuslab_plugins.conf import scheduler as scheduler_conf
from stratuslab_plugins.grid import aggregates
from stratuslab_plugins.grid import downtime
from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import keys
from stratuslab_plugins.grid import partition
from stratuslab_plugins.grid import request
from stratuslab_plugins.grid import vo_map
from stratuslab_plugins.grid import watched_file

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_HINTS = (keys.HINT_VO, keys.HINT_LIFETIME)


class SiteView(object):
    """What the grid filters and weighers of one process share.

    :param conf: the service's ConfigOpts (Nova's ``CONF``).
    :param vos: the VO map; by default the process's refreshing map.
    """

    def __init__(self, conf, vos=None):
        grid_conf.register_opts(conf)
        scheduler_conf.register_opts(conf)
        self.conf = conf
        self.options = conf.grid_scheduler
        self.vos = vos if vos is not None else vo_map.get_vo_map(conf)
        self.aggregates = aggregates.AggregateCache()
        max_bytes = self.options.site_file_max_bytes
        self._downtimes = watched_file.WatchedFile(
            self.options.downtime_file, downtime.parse_downtime_file, {},
            max_bytes)
        self._status = watched_file.WatchedFile(
            self.options.partition_status_file,
            partition.parse_status_file, {}, max_bytes)
        self._last_request = (None, None, None)
        self._refused_options = {}

    def number_option(self, name, parse):
        """Return ``[grid_scheduler] name`` read by ``parse``, or its default.

        oslo.config's FloatOpt takes ``nan`` and ``inf``; such a value (or
        one out of ``parse``'s bounds) is ignored with one warning for as
        long as it stays the same, and the option's default applies.

        :param parse: ``parse(key, value)`` from ``grid.values``, raising
            ``MetadataValueError``.
        """
        value = getattr(self.options, name)
        try:
            return parse('[%s] %s' % (scheduler_conf.GROUP, name), value)
        except exceptions.MetadataValueError as exc:
            default = scheduler_conf.default(name)
            # repr: nan != nan, and the warning is once per value.
            if self._refused_options.get(name) != repr(value):
                self._refused_options[name] = repr(value)
                LOG.warning('%s; using the default, %s, instead.', exc,
                            default)
            return default

    def downtime_table(self):
        """The downtime file's table (re-read if the file changed)."""
        return downtime.DowntimeTable(self._downtimes.get(),
                                      self.options.downtime_site_endpoints)

    def partition_status(self):
        """The batch status file's ``{hostname: state}``."""
        return self._status.get()

    def grid_request(self, spec_obj):
        """Return the :class:`GridRequest` of a Nova RequestSpec.

        Every grid filter and weigher of a request asks for it with the
        same RequestSpec object (Nova builds a new one for each request it
        receives), so the last one is kept: the request is read, and its
        bad values warned about, once. The flavor object is checked too,
        in case a caller in the same process reuses a spec for a resize.
        """
        last_spec, last_flavor, last_request = self._last_request
        if last_spec is spec_obj and last_flavor is spec_obj.flavor:
            return last_request
        grid_request = self._read_request(spec_obj)
        if grid_request.problems:
            LOG.warning('Request for project %s has malformed grid values, '
                        'ignored: %s', spec_obj.project_id,
                        '; '.join(str(p) for p in grid_request.problems))
        self._last_request = (spec_obj, spec_obj.flavor, grid_request)
        return grid_request

    def _read_request(self, spec_obj):
        flavor = spec_obj.flavor
        extra_specs = flavor.extra_specs if 'extra_specs' in flavor else {}
        hints = {}
        for name in _HINTS:
            value = spec_obj.get_scheduler_hint(name)
            if value is not None:
                hints[name] = value
        return request.build_request(extra_specs, hints,
                                     spec_obj.project_id, self.vos)

    def host_profile(self, host_state):
        """What the host's aggregates say, combined (once per request)."""
        # Nova keeps one HostState object per compute node across requests;
        # its id is a cheap key, and the cache checks the aggregates list's
        # identity, so a reused id can only cost a recomputation.
        return self.aggregates.host_profile(id(host_state),
                                            host_state.aggregates)


def host_names(host_state):
    """The names the downtime and status files may give a host."""
    return downtime.host_names(host_state.host, host_state.nodename)


def now():
    """The request's time, as POSIX seconds."""
    return time.time()


_SHARED = {}
_LOCK = threading.Lock()


def get_site(conf=None):
    """Return the process's :class:`SiteView` for ``conf`` (Nova's CONF)."""
    conf = CONF if conf is None else conf
    with _LOCK:
        site = _SHARED.get(id(conf))
        if site is None:
            site = _SHARED[id(conf)] = SiteView(conf)
        return site


def set_site(view, conf=None):
    """Make ``view`` the process's view for ``conf`` (tests, benchmarks)."""
    conf = CONF if conf is None else conf
    with _LOCK:
        _SHARED[id(conf)] = view


def reset():
    """Forget the shared views and stop the VO map (for tests)."""
    with _LOCK:
        _SHARED.clear()
    vo_map.reset_shared()

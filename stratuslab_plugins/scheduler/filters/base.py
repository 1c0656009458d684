"""What every grid filter shares: one look at the request, then each host.

Nova calls ``filter_all(host_states, spec_obj)`` once per request (and per
instance of a multi-create, see below). Grid filters read the request (its
flavor, hints and VO) and the site's files once there, then judge each
host with :meth:`GridFilter.passes`, so no per-host work repeats what is
the same for every host.

``run_filter_once_per_request`` is True: a grid decision depends on the
flavor, the hints, the project and the hosts' aggregates, none of which
change between the instances of one multi-create, and Nova narrows the
host list of later instances to the hosts the first one kept.

``RUN_ON_REBUILD`` is False: a rebuild keeps the flavor and the project,
so what let the instance onto its host still holds; a host that entered a
downtime since then must not refuse a rebuild of an instance it runs.
"""

import logging

from nova.scheduler import filters
from nova.scheduler import utils as scheduler_utils

from stratuslab_plugins.scheduler import site

LOG = logging.getLogger(__name__)


class GridFilter(filters.BaseHostFilter):
    """Base of the grid filters: subclasses write :meth:`passes`."""

    RUN_ON_REBUILD = False
    run_filter_once_per_request = True

    def __init__(self):
        super().__init__()
        self.site = site.get_site()

    def prepare(self, spec_obj):
        """Return what :meth:`passes` needs about the request, once."""
        return self.site.grid_request(spec_obj)

    def passes_all(self, prepared):
        """Return True when the request passes every host unseen."""
        return False

    def passes(self, host_state, prepared):
        """Return True when the host may take the prepared request."""
        raise NotImplementedError()

    def filter_all(self, filter_obj_list, spec_obj):
        if (not self.RUN_ON_REBUILD
                and scheduler_utils.request_is_rebuild(spec_obj)):
            return list(filter_obj_list)
        prepared = self.prepare(spec_obj)
        if self.passes_all(prepared):
            return list(filter_obj_list)
        kept = [host for host in filter_obj_list
                if self.passes(host, prepared)]
        if LOG.isEnabledFor(logging.DEBUG):
            self._log_refusals(filter_obj_list, kept, spec_obj)
        return kept

    def _log_refusals(self, hosts, kept, spec_obj):
        # Nova logs how many hosts a filter kept; an operator asking "why
        # not that host?" needs the names and the request's grid side, so
        # debug logging gives them (and pays for them only then).
        kept_ids = {id(host) for host in kept}
        refused = [host.host for host in hosts if id(host) not in kept_ids]
        if refused:
            LOG.debug('%s refused %s for %s', self.__class__.__name__,
                      ', '.join(sorted(refused)),
                      self.site.grid_request(spec_obj))

    def host_passes(self, host_state, spec_obj):
        return self.passes(host_state, self.prepare(spec_obj))

"""The ``neutron`` extractor: floating IPs, as public-IP records (v0.2).

One paged listing of ``/v2.0/floatingips`` a run: an admin's shows every
project's; a reader's, with a token scoped to each project it holds
``reader`` on, that project's (see ``scopes``). The IPs are counted per
project and IP version, and one
record written per pair, so an IPv6 record never overwrites the IPv4 one
(cASO keyed them by project alone). Neutron does not record which user
allocated a floating IP, so LocalUser and GlobalUserName stay empty: the
record belongs to the project, whose VO is in FQAN.

Needs ``[accounting] ip_records = True``. Least privilege: the Neutron
policy ``get_floatingip``, which ``reader`` holds on its project by
default (an admin's covers every project).
"""

import collections
import ipaddress
import logging

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting.extractors import base

LOG = logging.getLogger(__name__)


def ip_version(address):
    """Return 4 or 6 for an address string, None when it is not one."""
    try:
        return ipaddress.ip_address(address).version
    except ValueError:
        return None


class NeutronExtractor(base.Extractor):
    """Public-IP records from Neutron's floating IPs."""

    kinds = ('ip',)
    service = 'Neutron'
    needed = ('the reader role on each project read (Neutron policy '
              'get_floatingip), or the admin role to read every project at '
              'once')
    service_type = 'network'

    def count(self, projects=None):
        """Return ``{(project_id, version): count}`` of floating IPs."""
        counts = collections.Counter()
        for scope in self.scopes(projects):
            adapter = self.adapter(self.service_type, scope.session)
            for fip in self.paged(adapter, '/v2.0/floatingips',
                                  'floatingips',
                                  scope.filters(all_tenants=False)):
                version = ip_version(fip.get('floating_ip_address'))
                if version is None:
                    LOG.warning('Floating IP %s has no usable address %r; '
                                'not counted.', fip.get('id'),
                                fip.get('floating_ip_address'))
                    continue
                project = (fip.get('project_id') or fip.get('tenant_id')
                           or scope.project_id)
                counts[(project, version)] += 1
        return counts

    def extract(self, since, until, context, projects=None):
        counts = self.count(projects)
        for (project, version), count in sorted(counts.items()):
            yield builders.build_ip_record(project, None, version, count,
                                           until, context)

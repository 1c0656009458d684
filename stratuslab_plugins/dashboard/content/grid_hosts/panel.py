from django.utils.translation import gettext_lazy as _
import horizon


class GridHosts(horizon.Panel):
    name = _("Hosts")
    slug = 'grid_hosts'
    permissions = ('openstack.roles.admin', 'openstack.services.compute')
    policy_rules = (('compute', 'os_compute_api:os-aggregates:index'),)

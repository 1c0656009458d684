from django.utils.translation import gettext_lazy as _
import horizon


class GridUsage(horizon.Panel):
    name = _("Usage")
    slug = 'grid_usage'
    permissions = ('openstack.roles.admin',)

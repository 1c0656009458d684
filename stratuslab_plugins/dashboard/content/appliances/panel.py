from django.utils.translation import gettext_lazy as _
import horizon


class Appliances(horizon.Panel):
    name = _("Appliances")
    slug = 'appliances'
    permissions = ('openstack.services.image',)

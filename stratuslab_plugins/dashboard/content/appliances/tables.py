from django.utils.translation import gettext_lazy as _
from horizon import tables
from openstack_dashboard.dashboards.project.images.images import (
    tables as image_tables)


def _expiry(row):
    if row.expires is None:
        return '-'
    text = row.expires.strftime('%Y-%m-%d %H:%M UTC')
    return _('%s (expired)') % text if row.expired else text


class LaunchAppliance(image_tables.LaunchImageNG):
    """Horizon's own Launch action: opens its launch dialog on the image.

    Sent to the Appliances panel when the dialog closes, and refused for
    an expired appliance, which the sync is about to retire.
    """

    url = 'horizon:project:appliances:index'

    def allowed(self, request, image=None):
        if image is not None and image.expired:
            return False
        return super().allowed(request, image)


class AppliancesTable(tables.DataTable):
    name = tables.Column('name', verbose_name=_('Name'))
    identifier = tables.Column('identifier', verbose_name=_('Appliance'),
                               empty_value='-')
    endorser = tables.Column('endorser', verbose_name=_('Endorser'),
                             empty_value='-')
    expires = tables.Column(_expiry, verbose_name=_('Expires'))
    deprecated = tables.Column('deprecated',
                               verbose_name=_('Deprecated (retired)'),
                               empty_value='-')
    status = tables.Column('status', verbose_name=_('Status'))
    problem = tables.Column('problem', verbose_name=_('Problem'),
                            empty_value='')

    class Meta(object):
        name = 'appliances'
        verbose_name = _('Appliances')
        no_data_message = _(
            'No appliance is synced for this VO yet: the site subscribes '
            'VOs to appliance sources (stratuslab-appliance-sync).')
        row_actions = (LaunchAppliance,)

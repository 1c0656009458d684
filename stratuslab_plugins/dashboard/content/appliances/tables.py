from django.utils.translation import gettext_lazy as _
from horizon import tables
from openstack_dashboard.dashboards.project.images.images import (
    tables as image_tables)

from stratuslab_plugins.dashboard import failures


def _when(value):
    return value.strftime('%Y-%m-%d %H:%M UTC') if value else None


def _expiry(row):
    if row.expires is None:
        return '-'
    text = _when(row.expires)
    return _('%s (expired)') % text if row.expired else text


def _deletion(row):
    if row.delete_after is None:
        # Retired by a sync older than the property: it deletes the
        # image once the subscription's grace_period has passed.
        return _('after the grace period')
    return _when(row.delete_after)


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


class AppliancesTable(failures.ExplainedEmpty, tables.DataTable):
    name = tables.Column('name', verbose_name=_('Name'))
    identifier = tables.Column('identifier', verbose_name=_('Appliance'),
                               empty_value='-')
    endorser = tables.Column('endorser', verbose_name=_('Endorser'),
                             empty_value='-')
    expires = tables.Column(_expiry, verbose_name=_('Expires'))
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


class RetiredAppliancesTable(failures.ExplainedEmpty, tables.DataTable):
    """The images the sync retired: hidden, deactivated, to be deleted.

    Glance leaves hidden images out of its lists unless asked, so they
    are read separately, for admins only (any VO).
    """

    name = tables.Column('name', verbose_name=_('Name'))
    vo = tables.Column('vo', verbose_name=_('VO'), empty_value='-')
    identifier = tables.Column('identifier', verbose_name=_('Appliance'),
                               empty_value='-')
    retired_at = tables.Column(lambda row: _when(row.retired_at),
                               verbose_name=_('Retired'), empty_value='-')
    retired_reason = tables.Column('retired_reason', verbose_name=_('Why'),
                                   empty_value='-')
    delete_after = tables.Column(_deletion, verbose_name=_('Deleted after'))
    status = tables.Column('status', verbose_name=_('Status'))

    class Meta(object):
        name = 'retired'
        verbose_name = _('Retired appliances')
        permissions = ('openstack.roles.admin',)
        no_data_message = _('No appliance is retired: the sync retires an '
                            'image when its source stops offering it or a '
                            'newer version replaces it.')

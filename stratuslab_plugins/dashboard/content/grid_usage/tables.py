from django.utils.translation import gettext_lazy as _
from horizon import tables


class VOUsage:
    """One VO's totals over the period shown."""

    def __init__(self, series):
        self.id = self.key = series['key']
        self.wall_hours = round(sum(p['wall_hours']
                                    for p in series['points']), 2)
        self.cpu_hours = round(sum(p['cpu_hours']
                                   for p in series['points']), 2)


class UsageTable(tables.DataTable):
    key = tables.Column('key', verbose_name=_('VO'))
    wall_hours = tables.Column('wall_hours', verbose_name=_('Wall hours'))
    cpu_hours = tables.Column('cpu_hours', verbose_name=_('CPU hours'))

    class Meta(object):
        name = 'grid_usage'
        verbose_name = _('Usage per VO')
        no_data_message = _('No usage in this period.')

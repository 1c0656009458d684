from django.utils.translation import gettext_lazy as _
from horizon import tables

from stratuslab_plugins.accounting.api import client as usage_client
from stratuslab_plugins.dashboard import failures


class VOUsage:
    """One VO's totals over the period shown.

    CPU hours are None when no VM's CPU time is known (shown ``-``), and
    say how many VM-buckets are missing when some are.
    """

    def __init__(self, series):
        self.id = self.key = series['key']
        totals = usage_client.series_totals(series)
        self.wall_hours = totals.wall_hours
        self.cpu_hours = totals.cpu_hours
        self.cpu_unknown = totals.cpu_unknown
        self.partial = totals.partial


def _so_far(row, hours):
    # The last bucket was still running at the time of the request: the
    # total will grow (the page says up to when it is counted).
    return _('%s so far') % hours if row.partial else hours


def _wall(row):
    return _so_far(row, row.wall_hours)


def _cpu(row):
    if row.cpu_hours is None:
        return None
    if row.cpu_unknown:
        return _so_far(row, _('%(hours)s (+ %(count)d unmeasured)') % {
            'hours': row.cpu_hours, 'count': row.cpu_unknown})
    return _so_far(row, row.cpu_hours)


class UsageTable(failures.ExplainedEmpty, tables.DataTable):
    key = tables.Column('key', verbose_name=_('VO'))
    wall_hours = tables.Column(_wall, verbose_name=_('Wall hours'))
    cpu_hours = tables.Column(_cpu, verbose_name=_('CPU hours'),
                              empty_value='-')

    class Meta(object):
        name = 'grid_usage'
        verbose_name = _('Usage per VO')
        no_data_message = _('No usage in this period.')

from django.utils.translation import gettext_lazy as _
from horizon import tables

from stratuslab_plugins.dashboard import failures


def _list(attribute):
    def render(row):
        return '; '.join(getattr(row, attribute)) or '-'
    return render


class HostsTable(failures.ExplainedEmpty, tables.DataTable):
    host = tables.Column('host', verbose_name=_('Host'))
    aggregates = tables.Column(_list('aggregates'),
                               verbose_name=_('Aggregates'))
    vos = tables.Column('vos', verbose_name=_('VOs'), empty_value=_('any'))
    partition = tables.Column(
        lambda row: row.partition + row.partition_source,
        verbose_name=_('Partition'))
    downtimes = tables.Column(_list('downtimes'),
                              verbose_name=_('Downtime windows'))
    hepscore = tables.Column('hepscore', verbose_name=_('HEPscore/core'),
                             empty_value='-')
    failure_domain = tables.Column('failure_domain',
                                   verbose_name=_('Failure domain'),
                                   empty_value='-')
    power_state = tables.Column('power_state', verbose_name=_('Power'))
    problems = tables.Column(_list('problems'),
                             verbose_name=_('Malformed metadata'),
                             classes=('stratuslab-problems',))

    class Meta(object):
        name = 'grid_hosts'
        verbose_name = _('Grid hosts')
        no_data_message = _(
            'No compute host, and no host in a host aggregate. Describe '
            'hosts with grid_* metadata: openstack aggregate set '
            '--property grid_vos=VO --property grid_partition=cloud '
            'AGGREGATE.')

from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import messages
from horizon import tables as horizon_tables

from stratuslab_plugins.dashboard import api
from stratuslab_plugins.dashboard.content.grid_hosts import host_rows
from stratuslab_plugins.dashboard.content.grid_hosts import tables


class IndexView(horizon_tables.DataTableView):
    table_class = tables.HostsTable
    template_name = 'admin/grid_hosts/index.html'
    page_title = _('Grid hosts')

    def get_data(self):
        try:
            aggregates = api.aggregates(self.request)
        except Exception:
            exceptions.handle(self.request,
                              _('Unable to retrieve the host aggregates.'))
            return []
        rows = host_rows.rows_for(aggregates)
        bad = [row.host for row in rows if row.problems]
        if bad:
            messages.warning(self.request, _(
                '%(count)d host(s) have malformed grid metadata, which the '
                'scheduler ignores: %(hosts)s.')
                % {'count': len(bad), 'hosts': ', '.join(bad)})
        return rows

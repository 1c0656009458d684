from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import messages
from horizon import tables as horizon_tables

from stratuslab_plugins.dashboard import api
from stratuslab_plugins.dashboard.content.grid_hosts import host_rows
from stratuslab_plugins.dashboard.content.grid_hosts import tables
from stratuslab_plugins.dashboard import failures
from stratuslab_plugins.dashboard import settings


class IndexView(horizon_tables.DataTableView):
    table_class = tables.HostsTable
    template_name = 'admin/grid_hosts/index.html'
    page_title = _('Grid hosts')

    def _compute_hosts(self):
        try:
            return api.compute_hosts(self.request)
        except Exception as exc:
            exceptions.handle(self.request, _(
                'Unable to list the compute services (%s); only the hosts '
                'of aggregates are shown.') % failures.describe('Nova', exc))
            return ()

    def _site_files(self):
        files = host_rows.SiteFiles(
            settings.get('STRATUSLAB_DOWNTIME_FILE'),
            settings.get('STRATUSLAB_DOWNTIME_SITE_ENDPOINTS'),
            settings.get('STRATUSLAB_PARTITION_STATUS_FILE'))
        for problem in files.problems:
            messages.warning(self.request, _(
                '%(problem)s: the hosts are shown without it (the '
                'scheduler keeps its last good content).')
                % {'problem': problem})
        return files

    def get_data(self):
        try:
            aggregates = api.aggregates(self.request)
        except Exception as exc:
            reason = failures.describe('Nova', exc)
            exceptions.handle(self.request, reason)
            # Not the "no host yet" advice: the hosts are unknown.
            self.table.empty_reason = _(
                'The hosts cannot be listed: %s') % reason
            return []
        rows = host_rows.rows_for(aggregates, hosts=self._compute_hosts(),
                                  files=self._site_files())
        bad = [row.host for row in rows if row.problems]
        if bad:
            messages.warning(self.request, _(
                '%(count)d host(s) have malformed grid metadata, which the '
                'scheduler ignores: %(hosts)s.')
                % {'count': len(bad), 'hosts': ', '.join(bad)})
        return rows

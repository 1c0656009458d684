"""Admin > Grid > Usage: the chart, the table beneath, CSV, the queue.

The period comes from the query string (``since``, ``until`` as ISO
dates, ``step`` ``day`` or ``month``), defaulting to this month by day,
and goes to the usage API unchanged: the API validates it and its
message is shown as is.
"""

import csv

from django import http
from django.utils.translation import gettext_lazy as _
from horizon import messages
from horizon import tables as horizon_tables

from stratuslab_plugins.accounting.api import client as usage_client_mod
from stratuslab_plugins.dashboard import api
from stratuslab_plugins.dashboard.content.grid_usage import chart
from stratuslab_plugins.dashboard.content.grid_usage import tables

METRICS = ('wall_hours', 'cpu_hours')


def _query(request):
    return {name: request.GET.get(name) or None
            for name in ('since', 'until')} | {
        'step': request.GET.get('step') or 'day'}


class IndexView(horizon_tables.DataTableView):
    table_class = tables.UsageTable
    template_name = 'admin/grid_usage/index.html'
    page_title = _('Grid usage')

    def get_data(self):
        self.usage = self.queue = None
        self.error = None
        client = None
        try:
            client = api.usage_client(self.request)
            self.usage = client.usage(by='vo', **_query(self.request))
        except usage_client_mod.APIError as exc:
            self.error = str(exc)
            return []
        try:
            self.queue = client.queue()
        except usage_client_mod.APIError as exc:
            messages.warning(self.request, _(
                'The APEL queue state is unavailable: %s') % exc)
        if not self.usage.get('vo_map_size'):
            messages.warning(self.request, _(
                'The usage API has no VO map, so usage is not split by VO: '
                'set [grid] vo_project_property on the projects or [grid] '
                'vo_mapping_file in its configuration.'))
        return [tables.VOUsage(s) for s in self.usage['series']]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        metric = self.request.GET.get('metric')
        metric = metric if metric in METRICS else METRICS[0]
        context.update(error=self.error, usage=self.usage, queue=self.queue,
                       metric=metric, query=_query(self.request))
        if self.usage:
            context['chart'] = chart.render(self.usage['series'], metric)
        return context


class CsvView(IndexView):
    """The same data as CSV: one line per VO and bucket."""

    def get(self, request, *args, **kwargs):
        self.get_data()
        if self.error:
            return http.HttpResponse(self.error, status=503,
                                     content_type='text/plain')
        response = http.HttpResponse(content_type='text/csv')
        response['Content-Disposition'] = (
            'attachment; filename="grid-usage-%s-%s.csv"'
            % (self.usage['since'][:10], self.usage['until'][:10]))
        writer = csv.writer(response)
        writer.writerow(('vo', 'start', 'end', 'wall_hours', 'cpu_hours'))
        for series in self.usage['series']:
            for point in series['points']:
                writer.writerow((series['key'], point['start'],
                                 point['end'], point['wall_hours'],
                                 point['cpu_hours']))
        return response

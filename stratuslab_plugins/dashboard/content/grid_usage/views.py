"""Grid usage pages: the chart, the table beneath, CSV, the queue.

Served twice: Admin > Grid > Usage, and Project > Compute > Grid Usage
for VO managers (:mod:`..vo_usage`). The API decides which VOs each user
sees; the queue section appears to whom the API's policy lets read it
(:mod:`stratuslab_plugins.dashboard.usage_policy`).

The period comes from the query string (``since``, ``until`` as ISO
dates, ``step`` ``day`` or ``month``), defaulting to this month by day.
The form's "To" day is inclusive, as a date picker reads: a plain date
goes to the usage API as the next midnight (the API's ``until`` is an
instant, exclusive). Anything else goes unchanged: the API validates it
and its message is shown as is. The API never counts past the time of
the request; the page says so when the last bucket is still running.
"""

import csv
import datetime
import re

from django import http
from django import urls
from django.utils.translation import gettext_lazy as _
from horizon import messages
from horizon import tables as horizon_tables

from stratuslab_plugins.accounting.api import client as usage_client_mod
from stratuslab_plugins.dashboard import api
from stratuslab_plugins.dashboard.content.grid_usage import chart
from stratuslab_plugins.dashboard.content.grid_usage import tables
from stratuslab_plugins.dashboard import usage_policy

METRICS = ('wall_hours', 'cpu_hours')
_DATE = re.compile(r'^\d{4}-\d{2}-\d{2}$')
CSV_COLUMNS = ('vo', 'start', 'end', 'partial', 'wall_hours', 'cpu_hours',
               'cpu_known', 'cpu_unknown')


def _form(request):
    """The form's fields as the user typed them."""
    return {'since': request.GET.get('since') or None,
            'until': request.GET.get('until') or None,
            'step': request.GET.get('step') or 'day'}


def inclusive_end(value):
    """Return the API's exclusive ``until`` for the form's "To" value."""
    if value is None or not _DATE.match(value):
        return value
    try:
        return (datetime.date.fromisoformat(value)
                + datetime.timedelta(days=1)).isoformat()
    except (ValueError, OverflowError):
        # Not a date (2026-13-01), or the last one there is: the API
        # names what is wrong, or caps it at the time of the request.
        return value


def api_query(request):
    """The usage API query of the page's form."""
    form = _form(request)
    return dict(form, until=inclusive_end(form['until']))


def partial_note(usage):
    """The sentence saying the last bucket is still running, or None."""
    running = [point for series in usage['series']
               for point in series['points'][-1:] if point.get('partial')]
    if not running:
        return None
    return _('The last bucket (from %(start)s) is still running: its hours '
             'are counted up to %(until)s, the time of this page, and will '
             'grow.') % {'start': running[0]['start'][:10],
                         'until': usage['until'][:16].replace('T', ' ')}


def empty_reason(usage):
    """Why a period shows no usage: nothing recorded at all, or not then."""
    if not usage.get('recorded_since'):
        return _('The usage ledger holds no usage at all yet: is '
                 'stratuslab-accounting-listener running, and does Nova send '
                 'versioned notifications ([notifications] '
                 'notification_format = versioned)? See "Exact usage" in the '
                 'stratuslab-plugins README.')
    return _('No usage you may see in this period (the ledger holds usage '
             'since %s).') % usage['recorded_since'][:10]


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
            self.usage = client.usage(by='vo', **api_query(self.request))
        except usage_client_mod.APIError as exc:
            self.error = str(exc)
            return []
        if usage_policy.reads_queue(self.request):
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
        if not self.usage['series']:
            self.table.empty_reason = empty_reason(self.usage)
        return [tables.VOUsage(s) for s in self.usage['series']]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        metric = self.request.GET.get('metric')
        metric = metric if metric in METRICS else METRICS[0]
        context.update(error=self.error, usage=self.usage, queue=self.queue,
                       metric=metric, query=_form(self.request),
                       csv_url=urls.reverse(
                           self.request.resolver_match.namespace + ':csv'))
        if self.usage:
            context['chart'] = chart.render(self.usage['series'], metric)
            context['partial_note'] = partial_note(self.usage)
        return context


class CsvView(IndexView):
    """The same data as CSV: one line per VO and bucket.

    Unknown CPU time is an empty field; ``partial`` marks the bucket still
    running when the API answered.
    """

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
        writer.writerow(CSV_COLUMNS)
        for series in self.usage['series']:
            for point in series['points']:
                writer.writerow([series['key']] + [
                    point.get(name) for name in CSV_COLUMNS[1:]])
        return response

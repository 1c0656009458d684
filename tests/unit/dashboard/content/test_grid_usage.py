"""Admin > Grid > Usage with Horizon's test helpers.

The usage API is mocked at its client
(:class:`stratuslab_plugins.accounting.api.client.UsageClient`); the
chart, table, CSV and template are the real ones.
"""

import csv
import io
import os
import shutil
import tempfile

from django.test import utils as django_test_utils
from django.urls import reverse
from openstack_dashboard.test import helpers as test

from stratuslab_plugins.accounting.api import client as usage_client
from stratuslab_plugins.dashboard.content.grid_usage import views
from tests import horizon_stubs
from tests.unit.dashboard.content import usage_data

INDEX_URL = reverse('horizon:admin:grid_usage:index')
CSV_URL = reverse('horizon:admin:grid_usage:csv')
TEMPLATE = 'admin/grid_usage/index.html'


class GridUsageViewTest(horizon_stubs.RestoresClientExceptions,
                        test.BaseAdminViewTests):

    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_chart_has_one_series_per_vo_and_table_the_totals(self):
        self.mock_usage.return_value = usage_data.USAGE
        self.mock_queue.return_value = usage_data.QUEUE

        res = self.client.get(INDEX_URL + '?since=2026-11-01&step=day')

        self.assertTemplateUsed(res, TEMPLATE)
        self.mock_usage.assert_called_once_with(
            by='vo', since='2026-11-01', until=None, step='day')
        chart = res.context['chart']
        self.assertEqual(4, chart.count('<g class="series"'))
        self.assertIn('data-key="atlas"', chart)
        self.assertIn('data-key="biomed&lt;script&gt;"', chart)
        self.assertNotIn('<script>', chart)
        totals = {r.key: (r.wall_hours, r.cpu_hours, r.cpu_unknown)
                  for r in res.context['table'].data}
        self.assertEqual((42, 35, 0), totals['atlas'])
        self.assertEqual((78, 41.5, 2), totals['cms'])
        self.assertContains(res, 'class="stratuslab-queue-messages">7<')
        self.assertContains(res, CSV_URL + '?since=2026-11-01&amp;step=day')

    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_the_queue_shows_the_last_runs_outcome_failures_included(self):
        self.mock_usage.return_value = usage_data.USAGE
        self.mock_queue.return_value = usage_data.QUEUE_AFTER_FAILURE

        res = self.client.get(INDEX_URL)

        last = res.content.decode().split('stratuslab-last-run">')[1]
        last = last[:last.index('</dd>')]
        self.assertIn('failed', last)
        self.assertIn('Nova refused GET /os-aggregates', last)
        self.assertContains(res, 'class="stratuslab-run-failed"')
        self.assertContains(res, 'class="stratuslab-run-published"')

    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_before_any_run_the_queue_says_so(self):
        self.mock_usage.return_value = usage_data.USAGE
        self.mock_queue.return_value = dict(
            usage_data.QUEUE, exists=False, messages=0, runs=[],
            last_run=None, reported_until=None)

        res = self.client.get(INDEX_URL)

        self.assertContains(res, 'no run yet')
        self.assertContains(res, 'nothing reported yet')

    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_csv_has_a_line_per_vo_and_day(self):
        self.mock_usage.return_value = usage_data.USAGE

        res = self.client.get(CSV_URL + '?since=2026-11-01')

        self.assertEqual('text/csv', res['Content-Type'])
        self.assertIn('grid-usage-2026-11-01-2026-11-03.csv',
                      res['Content-Disposition'])
        lines = list(csv.reader(io.StringIO(res.content.decode())))
        self.assertEqual(['vo', 'start', 'end', 'partial', 'wall_hours',
                          'cpu_hours', 'cpu_known', 'cpu_unknown'],
                         lines[0])
        self.assertEqual(1 + 12, len(lines))
        self.assertIn(['cms', '2026-11-02T00:00:00+00:00',
                       '2026-11-03T00:00:00+00:00', 'False', '30', '1.5',
                       '1', '0'], lines)
        # Unknown CPU time is an empty field, not 0.
        self.assertIn(['lhcb', '2026-11-03T00:00:00+00:00',
                       '2026-11-03T12:00:00+00:00', 'True', '2.5', '', '0',
                       '1'], lines)

    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_the_to_day_is_inclusive(self):
        self.mock_usage.return_value = usage_data.USAGE
        self.mock_queue.return_value = usage_data.QUEUE

        res = self.client.get(INDEX_URL + '?since=2026-11-01&until=2026-11-30')

        # The API's until is an instant: the end of the 30th.
        self.mock_usage.assert_called_once_with(
            by='vo', since='2026-11-01', until='2026-12-01', step='day')
        self.assertContains(res, 'To (inclusive)')
        self.assertContains(res, 'name="until" value="2026-11-30"')

    def test_times_and_bad_values_go_to_the_api_unchanged(self):
        self.assertEqual('2027-01-01', views.inclusive_end('2026-12-31'))
        self.assertEqual('2028-03-01', views.inclusive_end('2028-02-29'))
        for value in ('2026-11-30T06:00:00', '2026-13-01', '9999-12-31',
                      'soon', None):
            self.assertEqual(value, views.inclusive_end(value))

    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_unknown_cpu_time_shows_as_a_dash_and_the_running_day_so(self):
        self.mock_usage.return_value = usage_data.USAGE
        self.mock_queue.return_value = usage_data.QUEUE

        res = self.client.get(INDEX_URL + '?metric=cpu_hours')

        rows = {r.key: r for r in res.context['table'].data}
        self.assertIsNone(rows['lhcb'].cpu_hours)
        table = res.context['table']
        cells = {row.datum.key: [str(cell.value)
                                 for cell in row.cells.values()]
                 for row in table.get_rows()}
        self.assertEqual('-', cells['lhcb'][-1])
        self.assertEqual('41.5 (+ 2 unmeasured) so far', cells['cms'][-1])
        self.assertEqual('42 so far', cells['atlas'][-2])
        self.assertContains(res, 'stratuslab-usage-partial')
        self.assertContains(res, 'counted up to 2026-11-03 12:00')
        # No point at zero for lhcb's unknown CPU hours, a hollow one for
        # the running day of the others.
        svg = res.context['chart']
        lhcb = svg[svg.index('data-key="lhcb"'):]
        self.assertNotIn('<circle', lhcb[:lhcb.index('</g>')])
        self.assertEqual(3, svg.count('<circle class="partial"'))

    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_api_error_names_what_to_configure(self):
        self.mock_usage.side_effect = usage_client.APIError(
            'usage API: HTTP 503: no accounting ledger is configured: set '
            '[accounting] ledger_connection', status=503)

        res = self.client.get(INDEX_URL)

        self.assertTemplateUsed(res, TEMPLATE)
        self.assertContains(res, 'stratuslab-usage-error')
        self.assertContains(res, '[accounting] ledger_connection')
        self.assertNotContains(res, '<svg')
        self.mock_queue.assert_not_called()

    @django_test_utils.override_settings(STRATUSLAB_ACCOUNTING_API_URL=None)
    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_no_api_configured_says_so(self):
        res = self.client.get(INDEX_URL)

        self.assertContains(res, 'STRATUSLAB_ACCOUNTING_API_URL')
        self.mock_usage.assert_not_called()

    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_an_empty_ledger_is_not_an_empty_period(self):
        self.mock_usage.return_value = dict(usage_data.USAGE, series=[],
                                            recorded_since=None)
        self.mock_queue.return_value = usage_data.QUEUE

        res = self.client.get(INDEX_URL)

        self.assertContains(res, 'The usage ledger holds no usage at all '
                                 'yet: is stratuslab-accounting-listener '
                                 'running')
        self.assertNotContains(res, 'No usage in this period.')

    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_a_period_without_usage_says_since_when_there_is(self):
        self.mock_usage.return_value = dict(
            usage_data.USAGE, series=[],
            recorded_since='2026-10-14T08:00:00+00:00')
        self.mock_queue.return_value = usage_data.QUEUE

        res = self.client.get(INDEX_URL)

        self.assertContains(res, 'No usage you may see in this period (the '
                                 'ledger holds usage since 2026-10-14).')

    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_a_missing_queue_directory_with_runs_names_the_option(self):
        self.mock_usage.return_value = usage_data.USAGE
        self.mock_queue.return_value = dict(usage_data.QUEUE, exists=False)

        res = self.client.get(INDEX_URL)

        self.assertContains(res, 'missing although runs are booked')
        self.assertContains(res, '[accounting_ssm] output_path')

    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_no_vo_map_is_flagged(self):
        self.mock_usage.return_value = dict(
            usage_data.USAGE, vo_map_size=0, series=[],
            recorded_since='2026-10-14T08:00:00+00:00')
        self.mock_queue.side_effect = usage_client.APIError('HTTP 403')

        res = self.client.get(INDEX_URL)

        self.assertMessageCount(res, warning=2)
        self.assertContains(res, 'vo_mapping_file')
        self.assertContains(res, 'No usage you may see in this period')


VO_URL = reverse('horizon:project:vo_usage:index')


class ProjectUserTestCase(horizon_stubs.RestoresClientExceptions,
                          test.TestCase):
    """A project member with the extra roles ``vo_roles``."""

    vo_roles = ()

    def _setup_user(self, **kwargs):
        roles = [{'id': '2', 'name': 'member'}] + [
            {'id': 'r-' + name, 'name': name} for name in self.vo_roles]
        super()._setup_user(roles=roles, **kwargs)


class VOManagerUsageViewTest(ProjectUserTestCase):
    """Project > Compute > Grid Usage, shown as the usage API's policy says."""

    vo_roles = ('vo_manager',)

    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_vo_manager_sees_his_vos_usage_without_the_queue(self):
        self.mock_usage.return_value = usage_data.USAGE

        res = self.client.get(VO_URL + '?since=2026-11-01')

        self.assertTemplateUsed(res, TEMPLATE)
        self.assertContains(res, 'Grid Usage')
        self.assertEqual(4, res.context['chart'].count('<g class="series"'))
        self.assertContains(res, reverse('horizon:project:vo_usage:csv'))
        # The queue is for site admins (accounting_api:queue:read): the
        # page does not ask for it.
        self.mock_queue.assert_not_called()
        self.assertNotContains(res, 'Outgoing APEL queue')

    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_a_policy_file_naming_another_role_is_followed(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        policy_file = os.path.join(directory, 'policy.yaml')
        with open(policy_file, 'w') as stream:
            stream.write('"accounting_api:vo_manager": '
                         '"role:vo_admin and vo:%(vo)s"\n')
        with django_test_utils.override_settings(
                STRATUSLAB_ACCOUNTING_POLICY_FILE=policy_file):
            res = self.client.get(VO_URL)

        self.assertEqual(403, res.status_code)
        self.mock_usage.assert_not_called()


class MemberUsageViewTest(ProjectUserTestCase):
    """A plain member: the API would show him his project only."""

    @test.create_mocks({usage_client.UsageClient: ['usage', 'queue']})
    def test_a_member_is_not_shown_the_panel(self):
        res = self.client.get(VO_URL)

        # Horizon's answer to a panel the user may not see.
        self.assertEqual(403, res.status_code)
        self.mock_usage.assert_not_called()

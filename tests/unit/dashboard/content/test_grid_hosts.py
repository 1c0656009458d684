"""Admin > Grid > Hosts with Horizon's test helpers.

Nova is mocked at Horizon's API layer; the metadata parsing is the
scheduler's own (``stratuslab_plugins.grid.aggregates``), and so is the
reading of the downtime and batch status files, real files here.
"""

import os
import shutil
import tempfile

from django.test.utils import override_settings
from django.urls import reverse
from horizon import exceptions as horizon_exceptions
from keystoneauth1 import exceptions as ks_exceptions
from novaclient.v2 import aggregates as nova_aggregates
from novaclient.v2 import services as nova_services
from openstack_dashboard import api as os_api
from openstack_dashboard.test import helpers as test

from tests import horizon_stubs

INDEX_URL = reverse('horizon:admin:grid_hosts:index')
TEMPLATE = 'admin/grid_hosts/index.html'


def aggregate(agg_id, name, hosts, **metadata):
    return nova_aggregates.Aggregate(
        nova_aggregates.AggregateManager(None),
        {'id': agg_id, 'name': name, 'hosts': hosts, 'metadata': metadata,
         'availability_zone': None})


def services(*hosts):
    manager = nova_services.ServiceManager(None)
    return [nova_services.Service(manager, {'host': host,
                                            'binary': 'nova-compute'})
            for host in hosts]


NOVA_CALLS = {os_api.nova: ['aggregate_details_list', 'service_list']}


class GridHostsViewTest(horizon_stubs.RestoresClientExceptions,
                        test.BaseAdminViewTests):

    def setUp(self):
        super().setUp()
        # A Django test case, not a testtools one: no useFixture.
        self.files = tempfile.mkdtemp(prefix='grid-hosts-')
        self.addCleanup(shutil.rmtree, self.files, True)

    def site_file(self, name, text):
        path = os.path.join(self.files, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    @test.create_mocks(NOVA_CALLS)
    def test_hosts_show_their_combined_grid_metadata(self):
        self.mock_service_list.return_value = services('c1', 'c2', 'c3')
        self.mock_aggregate_details_list.return_value = [
            aggregate(1, 'atlas-hosts', ['c1', 'c2'], grid_vos='atlas',
                      grid_hepscore='12.5', grid_failure_domain='rack-a',
                      grid_downtime='2099-01-01T00:00:00Z/'
                                    '2099-01-02T00:00:00Z'),
            aggregate(2, 'batch-lent', ['c2'], grid_vos='cms',
                      grid_partition='batch', grid_power_state='standby'),
            aggregate(3, 'typos', ['c3'], grid_hepscore='fast',
                      grid_partition='cloud'),
        ]

        res = self.client.get(INDEX_URL)

        self.assertTemplateUsed(res, TEMPLATE)
        rows = {row.host: row for row in res.context['table'].data}
        self.assertEqual(['c1', 'c2', 'c3'], sorted(rows))
        c1, c2, c3 = rows['c1'], rows['c2'], rows['c3']
        self.assertEqual(('atlas', 'cloud', 12.5, 'rack-a', 'on'),
                         (c1.vos, c1.partition, c1.hepscore,
                          c1.failure_domain, c1.power_state))
        self.assertEqual(['2099-01-01T00:00Z/2099-01-02T00:00Z'],
                         c1.downtimes)
        self.assertEqual(('atlas, cms', 'batch', 'standby'),
                         (c2.vos, c2.partition, c2.power_state))
        self.assertEqual((None, []), (c3.vos, c1.problems))
        self.assertEqual(1, len(c3.problems))
        self.assertIn("typos: grid_hepscore='fast'", c3.problems[0])
        self.assertMessageCount(res, warning=1)
        self.assertContains(res, 'malformed grid metadata')

    @test.create_mocks(NOVA_CALLS)
    def test_no_aggregates_says_how_to_describe_hosts(self):
        self.mock_aggregate_details_list.return_value = []
        self.mock_service_list.return_value = []

        res = self.client.get(INDEX_URL)

        self.assertContains(res, 'openstack aggregate set --property '
                                 'grid_vos=VO')

    @test.create_mocks(NOVA_CALLS)
    def test_nova_failure_is_reported(self):
        self.mock_aggregate_details_list.side_effect = self.exceptions.nova

        res = self.client.get(INDEX_URL)

        self.assertTemplateUsed(res, TEMPLATE)
        self.assertMessageCount(res, error=1)
        self.assertContains(res, 'The hosts cannot be listed: Nova '
                                 'answered with an error')
        self.assertNotContains(res, 'openstack aggregate set')

    @test.create_mocks(NOVA_CALLS)
    def test_unreachable_nova_is_not_an_empty_site(self):
        # Issue 19: the empty text advised adding grid_* metadata.
        self.mock_aggregate_details_list.side_effect = (
            ks_exceptions.ConnectFailure('Unable to establish connection '
                                         'to http://nova.example.org'))
        self.mock_service_list.side_effect = ks_exceptions.ConnectFailure(
            'Unable to establish connection to http://nova.example.org')

        res = self.client.get(INDEX_URL)

        self.assertContains(res, 'The hosts cannot be listed: Nova cannot '
                                 'be reached')
        self.assertNotContains(res, 'openstack aggregate set')

    @test.create_mocks(NOVA_CALLS)
    def test_nova_missing_from_the_catalog_says_so(self):
        self.mock_aggregate_details_list.side_effect = (
            horizon_exceptions.ServiceCatalogException('compute'))
        self.mock_service_list.return_value = []

        res = self.client.get(INDEX_URL)

        self.assertContains(res, 'Nova is not in the Keystone catalog')
        self.assertNotContains(res, 'openstack aggregate set')

    @test.create_mocks(NOVA_CALLS)
    def test_compute_hosts_in_no_aggregate_are_listed(self):
        self.mock_aggregate_details_list.return_value = [
            aggregate(1, 'atlas-hosts', ['c1'], grid_vos='atlas')]
        self.mock_service_list.return_value = services('c1', 'c9', 'c9')

        res = self.client.get(INDEX_URL)

        rows = {row.host: row for row in res.context['table'].data}
        self.assertEqual(['c1', 'c9'], sorted(rows))
        self.assertEqual(([], None, 'cloud'), (rows['c9'].aggregates,
                                               rows['c9'].vos,
                                               rows['c9'].partition))
        self.mock_service_list.assert_called_once_with(
            test.IsHttpRequest(), binary='nova-compute')

    @test.create_mocks(NOVA_CALLS)
    def test_service_list_failure_keeps_the_aggregate_hosts(self):
        self.mock_aggregate_details_list.return_value = [
            aggregate(1, 'atlas-hosts', ['c1'], grid_vos='atlas')]
        self.mock_service_list.side_effect = self.exceptions.nova

        res = self.client.get(INDEX_URL)

        self.assertEqual(['c1'], [r.host for r in res.context['table'].data])
        self.assertMessageCount(res, error=1)

    @test.create_mocks(NOVA_CALLS)
    def test_site_files_show_what_the_scheduler_reads(self):
        self.mock_aggregate_details_list.return_value = [
            aggregate(1, 'wn', ['wn01.example.org', 'wn02.example.org'],
                      grid_partition='cloud',
                      grid_downtime='2099-03-01T00:00:00Z/'
                                    '2099-03-02T00:00:00Z')]
        self.mock_service_list.return_value = services('wn03.example.org')
        downtimes = self.site_file(
            'downtimes.txt',
            'wn01 2099-01-01T08:00Z/2099-01-01T18:00Z\n'
            'cloud.example.org 2099-02-01T08:00Z/2099-02-01T09:00Z\n')
        status = self.site_file('batch.json', '{"hosts": {'
                                '"wn02": "batch", "WN03.example.org": '
                                '"draining"}}')

        with override_settings(
                STRATUSLAB_DOWNTIME_FILE=downtimes,
                STRATUSLAB_DOWNTIME_SITE_ENDPOINTS=['cloud.example.org'],
                STRATUSLAB_PARTITION_STATUS_FILE=status):
            res = self.client.get(INDEX_URL)

        rows = {row.host: row for row in res.context['table'].data}
        wn01, wn02, wn03 = (rows['wn01.example.org'], rows['wn02.example.org'],
                            rows['wn03.example.org'])
        self.assertEqual(['2099-01-01T08:00Z/2099-01-01T18:00Z (downtime '
                          'file)',
                          '2099-02-01T08:00Z/2099-02-01T09:00Z (downtime '
                          'file)',
                          '2099-03-01T00:00Z/2099-03-02T00:00Z'],
                         wn01.downtimes)
        # The site endpoint's downtime applies to every host.
        self.assertEqual(['2099-02-01T08:00Z/2099-02-01T09:00Z (downtime '
                          'file)'], wn03.downtimes)
        self.assertEqual([('cloud', ''), ('batch', ' (status file)'),
                          ('draining', ' (status file)')],
                         [(r.partition, r.partition_source)
                          for r in (wn01, wn02, wn03)])
        self.assertContains(res, 'batch (status file)')
        self.assertMessageCount(res, warning=0)

    @test.create_mocks(NOVA_CALLS)
    def test_bad_site_files_are_named_and_the_page_still_shows(self):
        self.mock_aggregate_details_list.return_value = [
            aggregate(1, 'wn', ['wn01'], grid_partition='batch')]
        self.mock_service_list.return_value = services('wn01')
        status = self.site_file('batch.json',
                                '{"hosts": {"wn01": "lent"}}')

        with override_settings(
                STRATUSLAB_DOWNTIME_FILE=os.path.join(self.files, 'none'),
                STRATUSLAB_PARTITION_STATUS_FILE=status):
            res = self.client.get(INDEX_URL)

        self.assertEqual([('batch', '')],
                         [(r.partition, r.partition_source)
                          for r in res.context['table'].data])
        self.assertMessageCount(res, warning=2)
        self.assertContains(res, os.path.join(self.files, 'none')
                            + ' cannot be read')
        self.assertContains(res, "host wn01 has state &#x27;lent&#x27;")

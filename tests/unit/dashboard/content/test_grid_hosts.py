"""Admin > Grid > Hosts with Horizon's test helpers.

Nova is mocked at Horizon's API layer; the metadata parsing is the
scheduler's own (``stratuslab_plugins.grid.aggregates``).
"""

from django.urls import reverse
from novaclient.v2 import aggregates as nova_aggregates
from openstack_dashboard import api as os_api
from openstack_dashboard.test import helpers as test

INDEX_URL = reverse('horizon:admin:grid_hosts:index')
TEMPLATE = 'admin/grid_hosts/index.html'


def aggregate(agg_id, name, hosts, **metadata):
    return nova_aggregates.Aggregate(
        nova_aggregates.AggregateManager(None),
        {'id': agg_id, 'name': name, 'hosts': hosts, 'metadata': metadata,
         'availability_zone': None})


class GridHostsViewTest(test.BaseAdminViewTests):

    @test.create_mocks({os_api.nova: ['aggregate_details_list']})
    def test_hosts_show_their_combined_grid_metadata(self):
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

    @test.create_mocks({os_api.nova: ['aggregate_details_list']})
    def test_no_aggregates_says_how_to_describe_hosts(self):
        self.mock_aggregate_details_list.return_value = []

        res = self.client.get(INDEX_URL)

        self.assertContains(res, 'openstack aggregate set --property '
                                 'grid_vos=VO')

    @test.create_mocks({os_api.nova: ['aggregate_details_list']})
    def test_nova_failure_is_reported(self):
        self.mock_aggregate_details_list.side_effect = self.exceptions.nova

        res = self.client.get(INDEX_URL)

        self.assertTemplateUsed(res, TEMPLATE)
        self.assertMessageCount(res, error=1)

"""Project > Compute > Appliances with Horizon's test helpers.

Glance and Keystone are mocked at Horizon's API layer (the client
boundary); the rows, the table, the Launch action and the template are
the real ones.
"""

import json

from django.urls import reverse
from keystoneclient.v3 import projects
from openstack_dashboard import api as os_api
from openstack_dashboard.test import helpers as test
from openstack_dashboard.test.test_data import glance_data

from stratuslab_plugins.dashboard import image_properties as props
from tests import horizon_stubs

INDEX_URL = reverse('horizon:project:appliances:index')
TEMPLATE = 'project/appliances/index.html'


def image(image_id, name, **properties):
    return os_api.glance.Image(glance_data.APIResourceV2(dict(
        id=image_id, name=name, status='active', container_format='bare',
        disk_format='qcow2', tags=['stratuslab-sync'], **properties)))


class AppliancesViewTest(horizon_stubs.RestoresClientExceptions,
                         test.TestCase):

    def project(self, **properties):
        return projects.Project(projects.ProjectManager, dict(
            id=self.tenant.id, name=self.tenant.name, **properties))

    @test.create_mocks({os_api.glance: ['image_list_detailed'],
                        os_api.keystone: ['tenant_get']})
    def test_lists_the_vos_appliances_with_endorsement_and_expiry(self):
        self.mock_tenant_get.return_value = self.project(**{'egi.VO': 'atlas'})
        self.mock_image_list_detailed.return_value = ([
            image('i-1', 'CentOS 9', **{
                props.APPDB_ID: '1234', props.ENDORSER_DN: '/CN=Endorser',
                props.EXPIRES: '2099-01-01T00:00:00Z', props.VO: 'atlas'}),
            image('i-2', 'Old Ubuntu', **{
                props.APPLIANCE_ATTRIBUTES: json.dumps(
                    {'dc:date:expires': '2001-01-01T00:00:00Z'}),
                props.RETIRED_REASON: 'superseded by 24.04'}),
            image('i-3', 'CMS only', **{props.VO: 'cms'}),
        ], False, False)

        res = self.client.get(INDEX_URL)

        self.assertTemplateUsed(res, TEMPLATE)
        rows = res.context['table'].data
        self.assertEqual(['CentOS 9', 'Old Ubuntu'], [r.name for r in rows])
        self.assertEqual(('1234', '/CN=Endorser', False),
                         (rows[0].identifier, rows[0].endorser,
                          rows[0].expired))
        self.assertTrue(rows[1].expired)
        self.assertContains(res, 'superseded by 24.04')
        self.assertContains(res, '2001-01-01 00:00 UTC (expired)')
        # Horizon's launch dialog, on the chosen image, for the valid one.
        self.assertContains(res, 'imageId: &#x27;i-1&#x27;')
        self.assertNotContains(res, 'imageId: &#x27;i-2&#x27;')
        self.mock_image_list_detailed.assert_called_once_with(
            test.IsHttpRequest(), filters={'tag': ['stratuslab-sync']})

    @test.create_mocks({os_api.glance: ['image_list_detailed'],
                        os_api.keystone: ['tenant_get']})
    def test_project_without_vo_says_what_to_set(self):
        self.mock_tenant_get.return_value = self.project()

        res = self.client.get(INDEX_URL)

        self.assertTemplateUsed(res, TEMPLATE)
        self.assertEqual([], res.context['table'].data)
        self.assertContains(res, 'openstack project set --property '
                                 'egi.VO=&lt;VO&gt;')
        self.mock_image_list_detailed.assert_not_called()

    @test.create_mocks({os_api.glance: ['image_list_detailed'],
                        os_api.keystone: ['tenant_get']})
    def test_glance_failure_is_reported_not_raised(self):
        self.mock_tenant_get.return_value = self.project(**{'egi.VO': 'atlas'})
        self.mock_image_list_detailed.side_effect = self.exceptions.glance

        res = self.client.get(INDEX_URL)

        self.assertTemplateUsed(res, TEMPLATE)
        self.assertMessageCount(res, error=1)
        self.assertContains(res, 'No appliance is synced for this VO yet')

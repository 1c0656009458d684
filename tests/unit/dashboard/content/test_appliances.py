"""Project > Compute > Appliances with Horizon's test helpers.

Glance and Keystone are mocked at Horizon's API layer (the client
boundary); the rows, the table, the Launch action and the template are
the real ones.
"""

import json

from django.urls import reverse
from glanceclient import exc as glance_exceptions
from keystoneauth1 import exceptions as ks_exceptions
from keystoneclient.v3 import projects
from openstack_dashboard import api as os_api
from openstack_dashboard.test import helpers as test
from openstack_dashboard.test.test_data import glance_data

from stratuslab_plugins.dashboard import image_properties as props
from tests import horizon_stubs

INDEX_URL = reverse('horizon:project:appliances:index')
TEMPLATE = 'project/appliances/index.html'
#: What the appliance sync writes on an image it retires.
RETIRED = {props.RETIRED_AT: '2026-11-01T12:00:00Z',
           props.RETIRED_REASON: 'replaced by a newer version of '
                                 'appliance 1234',
           props.DELETE_AFTER: '2026-11-04T12:00:00Z',
           props.VO: 'atlas', props.APPDB_ID: '1234', 'os_hidden': True}


def image(image_id, name, status='active', **properties):
    return os_api.glance.Image(glance_data.APIResourceV2(dict(
        id=image_id, name=name, status=status, container_format='bare',
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
                    {'dc:date:expires': '2001-01-01T00:00:00Z'})}),
            image('i-3', 'CMS only', **{props.VO: 'cms'}),
            # Retired but still active (the sync's on_replace: hide):
            # not offered any more, whatever lists it.
            image('i-4', 'Replaced', **RETIRED),
        ], False, False)

        res = self.client.get(INDEX_URL)

        self.assertTemplateUsed(res, TEMPLATE)
        rows = res.context['appliances_table'].data
        self.assertEqual(['CentOS 9', 'Old Ubuntu'], [r.name for r in rows])
        self.assertEqual(('1234', '/CN=Endorser', False),
                         (rows[0].identifier, rows[0].endorser,
                          rows[0].expired))
        self.assertTrue(rows[1].expired)
        self.assertContains(res, '2001-01-01 00:00 UTC (expired)')
        # Horizon's launch dialog, on the chosen image, for the valid one.
        self.assertContains(res, 'imageId: &#x27;i-1&#x27;')
        self.assertNotContains(res, 'imageId: &#x27;i-2&#x27;')
        # A project member is shown no retired section, and Glance is not
        # asked for hidden images.
        self.assertNotIn('retired_table', res.context)
        self.assertNotContains(res, 'Retired appliances')
        self.mock_image_list_detailed.assert_called_once_with(
            test.IsHttpRequest(), filters={'tag': ['stratuslab-sync']})

    @test.create_mocks({os_api.glance: ['image_list_detailed'],
                        os_api.keystone: ['tenant_get']})
    def test_project_without_vo_says_what_to_set(self):
        self.mock_tenant_get.return_value = self.project()

        res = self.client.get(INDEX_URL)

        self.assertTemplateUsed(res, TEMPLATE)
        self.assertEqual([], res.context['appliances_table'].data)
        self.assertContains(res, 'This project has no VO: no appliance is '
                                 'offered to it.')
        self.assertNotContains(res, 'No appliance is synced for this VO yet')
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
        self.assertContains(res, 'The appliances cannot be listed: Glance '
                                 'answered with an error')
        self.assertNotContains(res, 'No appliance is synced for this VO yet')

    @test.create_mocks({os_api.glance: ['image_list_detailed'],
                        os_api.keystone: ['tenant_get']})
    def test_unreachable_glance_is_not_an_empty_catalogue(self):
        # Issue 19: "no appliance is synced yet" while Glance was down.
        self.mock_tenant_get.return_value = self.project(**{'egi.VO': 'atlas'})
        self.mock_image_list_detailed.side_effect = (
            glance_exceptions.CommunicationError(
                'Error finding address for http://glance.example.org'))

        res = self.client.get(INDEX_URL)

        self.assertContains(res, 'Glance cannot be reached')
        self.assertNotContains(res, 'No appliance is synced for this VO yet')

    @test.create_mocks({os_api.glance: ['image_list_detailed'],
                        os_api.keystone: ['tenant_get']})
    def test_unreadable_project_vo_is_not_a_missing_vo(self):
        self.mock_tenant_get.side_effect = ks_exceptions.ConnectFailure(
            'Unable to establish connection to http://keystone.example.org')

        res = self.client.get(INDEX_URL)

        self.assertContains(res, 'The project&#x27;s VO cannot be read')
        self.assertContains(res, 'Keystone cannot be reached')
        self.assertNotContains(res, 'openstack project set')
        self.mock_image_list_detailed.assert_not_called()


class RetiredAppliancesViewTest(horizon_stubs.RestoresClientExceptions,
                                test.BaseAdminViewTests):

    @test.create_mocks({os_api.glance: ['image_list_detailed'],
                        os_api.keystone: ['tenant_get']})
    def test_admins_see_retired_appliances_with_when_why_and_deletion(self):
        self.mock_tenant_get.return_value = projects.Project(
            projects.ProjectManager, dict(id=self.tenant.id,
                                          name=self.tenant.name,
                                          **{'egi.VO': 'atlas'}))
        retired = [
            image('i-9', 'Old CentOS', status='deactivated', **RETIRED),
            image('i-8', 'Older, by an older sync', status='deactivated',
                  **{props.RETIRED_AT: '2026-10-01T00:00:00Z',
                     props.RETIRED_REASON: 'appliance 99 left the sources',
                     props.VO: 'cms', 'os_hidden': True})]
        self.mock_image_list_detailed.side_effect = [
            ([image('i-1', 'CentOS 9', **{props.VO: 'atlas'})], False,
             False),
            (retired, False, False)]

        res = self.client.get(INDEX_URL)

        self.assertEqual(['i-9', 'i-8'],
                         [r.id for r in res.context['retired_table'].data])
        self.assertContains(res, 'Retired appliances (site admins)')
        for text in ('2026-11-01 12:00 UTC',
                     'replaced by a newer version of appliance 1234',
                     '2026-11-04 12:00 UTC', 'deactivated',
                     'appliance 99 left the sources',
                     'after the grace period'):
            self.assertContains(res, text)
        self.mock_image_list_detailed.assert_called_with(
            test.IsHttpRequest(), filters={'tag': ['stratuslab-sync'],
                                           'os_hidden': True})

"""Nova's JSON in ``tests/fixtures/nova``, checked against a live Nova.

The unit tests of the accounting read servers and flavors in the exact
spelling Nova's API returns at the microversions our extractor meets
(2.46 without the embedded flavor, 2.47 with it), for an admin and for a
user holding only ``reader``. Those files were recorded from the Nova
this test starts (the foundation's ``NovaTestCase``: Nova's API with its
real default policy, conductor, scheduler and a fake compute): it makes
the same calls again and checks that each answer still has the status
and the shape (field names, at every depth) of its recording, so a Nova
upgrade that changes them shows here rather than in production.

``STRATUSLAB_RECORD_NOVA=1`` rewrites the files from this run instead.
"""

import json
import os

from nova.tests.functional.api import client as nova_api_client

from tests.functional import nova_base
from tests.unit.accounting.extractors import fake_cloud


def shape(value):
    """Return the field names of a JSON value, at every depth.

    A list's shape is the distinct shapes of its items, in a fixed order:
    Nova lists servers created in the same second in either order, and
    two servers of one answer may differ (one flavor has extra specs).
    """
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        shapes = {json.dumps(shape(item), sort_keys=True): shape(item)
                  for item in value}
        return [shapes[key] for key in sorted(shapes)]
    return type(value).__name__ if value is not None else None


class TestNovaRecordings(nova_base.NovaTestCase):

    def setUp(self):
        super().setUp()
        self.start_computes('host1')
        self.grid = self._create_flavor(
            name='m1.grid', vcpu=2, memory_mb=2048, disk=20, ephemeral=5,
            extra_spec={'accounting:benchmark_type': 'HEPscore23',
                        'accounting:benchmark_value': '18.5'})
        gone = self._create_flavor(name='m1.gone', vcpu=1, memory_mb=512,
                                   disk=1, ephemeral=0)
        self._create_server(name='grid-vm', flavor_id=self.grid,
                            networks='none')
        self._create_server(name='orphan-vm', flavor_id=gone,
                            networks='none')
        # The flavor goes; the server keeps its copy of it.
        self.admin_api.delete_flavor(gone)
        self.gone = gone
        self.reader = nova_api_client.TestOpenStackClient(
            'reader', self.api_fixture.base_url,
            project_id=self.api.project_id, roles=['reader'])

    def calls(self):
        """Return ``{file name: (client, path, microversion)}``."""
        admin, reader = self.admin_api, self.reader
        return {
            'servers-detail-all-tenants-admin-v246.json': (
                admin, '/servers/detail?all_tenants=1', '2.46'),
            'servers-detail-all-tenants-admin-v247.json': (
                admin, '/servers/detail?all_tenants=1', '2.47'),
            'servers-detail-reader-v247.json': (
                reader, '/servers/detail', '2.47'),
            'servers-detail-all-tenants-reader-v247.json': (
                reader, '/servers/detail?all_tenants=1', '2.47'),
            'flavors-detail-admin-v247.json': (
                admin, '/flavors/detail?is_public=None', '2.47'),
            'flavor-gone-v247.json': (
                admin, '/flavors/%s' % self.gone, '2.47'),
            'flavor-extra-specs-reader-v247.json': (
                reader, '/flavors/%s/os-extra_specs' % self.grid, '2.47'),
            'os-aggregates-reader-v247.json': (
                reader, '/os-aggregates', '2.47'),
        }

    def answer(self, api, path, microversion):
        api.microversion = microversion
        resp = api.api_request(path, check_response_status=False)
        return {'request': 'GET %s' % path, 'microversion': microversion,
                'status': resp.status_code,
                'body': resp.json() if resp.content else None}

    def test_recordings_match_nova(self):
        record = os.environ.get('STRATUSLAB_RECORD_NOVA') == '1'
        for name, (api, path, microversion) in self.calls().items():
            live = self.answer(api, path, microversion)
            if record:
                fake_cloud.write_nova_recording(name, live)
                continue
            recorded = fake_cloud.nova_recording(name, body_only=False)
            self.assertEqual(
                (recorded['status'], shape(recorded['body'])),
                (live['status'], shape(live['body'])),
                '%s no longer matches Nova: %s' % (name, json.dumps(
                    live['body'], sort_keys=True)[:2000]))

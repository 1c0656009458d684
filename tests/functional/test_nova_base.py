"""The in-process Nova harness boots a real server through Nova's API.

Starts Nova's API, conductor, scheduler, Placement and two fake computes
(Nova's own functional harness) and proves that a server request goes
through the real scheduler to an ACTIVE server on one of those hosts.
"""

from tests.functional import nova_base


class TestNovaHarness(nova_base.NovaTestCase):

    def test_boot_server_through_the_api(self):
        self.start_computes('host1', 'host2')

        server = self._create_server(networks='none')

        self.assertEqual('ACTIVE', server['status'])
        self.assertIn(self.host_of(server), ('host1', 'host2'))
        # The allocation went through the in-process Placement.
        allocations = self._get_allocations_by_server_uuid(server['id'])
        self.assertEqual(1, len(allocations))

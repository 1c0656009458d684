"""``openstack appliance subscription list|show`` read the file alone."""

import os

import fixtures
from osc_lib import exceptions as osc_exceptions
import testtools
import yaml

from stratuslab_plugins.osc import subscription


class SubscriptionCommandsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'subs.yaml')
        with open(self.path, 'w') as f:
            yaml.safe_dump({'vos': {
                'b.example': {'sources': [{'image_list': '/l'}],
                              'mode': 'import', 'store': 'local',
                              'projects': ['p1']},
                'a.example': {'sources': [{'registry': 'https://r.example',
                                           'project': 'a'}]}}}, f)

    def take(self, cls, *args):
        command = cls(None, None)
        parsed = command.get_parser('x').parse_args(['--file', self.path]
                                                    + list(args))
        return command.take_action(parsed)

    def test_list(self):
        columns, rows = self.take(subscription.ListSubscription)
        self.assertEqual(subscription.LIST_COLUMNS, columns)
        self.assertEqual(
            [('a.example', ['https://r.example project a (tags *)'],
              'location', 'shared', 'VO map', 'stratuslab-sync'),
             ('b.example', ['image list /l'], 'import to local', 'shared',
              ['p1'], 'stratuslab-sync')],
            [tuple(getattr(v, '_value', v) for v in row) for row in rows])

    def test_show(self):
        columns, values = self.take(subscription.ShowSubscription,
                                    'b.example')
        row = dict(zip(columns, values))
        self.assertEqual(('import', 'local', 72, True),
                         (row['mode'], row['store'],
                          row['grace_period_hours'],
                          row['require_signature']))

    def test_unknown_vo_is_a_command_error(self):
        error = self.assertRaises(osc_exceptions.CommandError, self.take,
                                  subscription.ShowSubscription, 'c.example')
        self.assertIn('No subscription for VO c.example', str(error))

    def test_file_from_the_environment(self):
        self.useFixture(fixtures.EnvironmentVariable(subscription.FILE_ENV,
                                                     self.path))
        command = subscription.ListSubscription(None, None)
        self.assertEqual(self.path,
                         command.get_parser('x').parse_args([]).file)

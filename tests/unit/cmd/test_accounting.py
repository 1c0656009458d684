"""``stratuslab-accounting`` end to end, the cloud faked at HTTP level.

Keystone and Nova are a WSGI app serving their JSON shapes through
wsgi-intercept (see ``tests.unit.accounting.extractors.fake_cloud``);
the configuration file, the SQLite ledger and the dirq queue are real.
"""

import io
import json
import re

import fixtures
import testtools

from stratuslab_plugins.cmd import accounting
from tests.unit.accounting import apel_oracle
from tests.unit.accounting.extractors import fake_cloud
from tests.unit.accounting.messengers import test_ssm


def server(i, project, status='ACTIVE'):
    """A server as Nova 2.47 ``GET /servers/detail`` shows it to admin."""
    return {
        'id': '00000000-0000-0000-0000-%012d' % i, 'name': 'vm-%d' % i,
        'status': status, 'tenant_id': project, 'user_id': 'u1',
        'created': '2026-11-01T00:00:00Z', 'updated': '2026-11-01T01:00:00Z',
        'OS-SRV-USG:launched_at': '2026-11-01T00:00:05.000000',
        'OS-SRV-USG:terminated_at': None,
        'OS-EXT-SRV-ATTR:host': 'host1',
        'flavor': {'vcpus': 2, 'ram': 2048, 'disk': 20, 'ephemeral': 0,
                   'swap': 0, 'original_name': 'm1.small',
                   'extra_specs': {}},
        'image': {'id': 'img-1'},
    }


class TestAccountingCommand(testtools.TestCase):

    def setUp(self):
        super().setUp()
        servers = [server(i, 'p%d' % (i % 3)) for i in range(7)]
        self.cloud = self.useFixture(fake_cloud.FakeCloud(
            {'/servers/detail': ('servers', servers)},
            documents={
                '/projects': {'projects': [
                    {'id': 'p0', 'name': 'zero', 'egi.VO': 'vo.zero'},
                    {'id': 'p1', 'name': 'one', 'egi.VO': 'vo.one'},
                    {'id': 'p2', 'name': 'two'}], 'links': {}},
                '/users/u1': {'user': {'id': 'u1', 'name': 'alice'}},
                '/users': {'users': [{'id': 'u1', 'name': 'alice'}]},
                '/os-aggregates': {'aggregates': [
                    {'name': 'fast', 'hosts': ['host1'],
                     'metadata': {'grid_hepscore': '15'}}]},
            }))
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.config = self.tmp + '/accounting.conf'
        with open(self.config, 'w') as stream:
            stream.write('[grid]\nsite_name = CMD-SITE\n'
                         '[accounting]\nledger_connection = sqlite:///%s'
                         '/ledger.db\npage_size = 3\n'
                         '[accounting_ssm]\noutput_path = %s/outgoing\n'
                         '[accounting_keystone]\nauth_type = none\n'
                         'endpoint = %s\n'
                         % (self.tmp, self.tmp, self.cloud.url))

    def run_command(self, *args):
        out = io.StringIO()
        code = accounting.main(['--config-file', self.config] + list(args),
                               out=out)
        return code, out.getvalue()

    def test_publish_then_status(self):
        code, out = self.run_command('publish')
        self.assertEqual(0, code, out)
        # p2 has no VO: its 2 servers are skipped, the run goes on. The
        # servers started on 1 November: each also has a record per month
        # end since, as many as today's date makes.
        published = re.search(
            r'published: (\d+) records \(cloud \1\), 1 messages, 1 '
            'projects without VO skipped; windows moved', out)
        self.assertIsNotNone(published, out)
        [body] = test_ssm.read_queue(self.tmp + '/outgoing')
        parsed = apel_oracle.parse(body)
        self.assertEqual(int(published.group(1)), len(parsed))
        self.assertEqual(5, len({p['VMUUID'] for p in parsed}))
        self.assertEqual({'CMD-SITE'}, {p['SiteName'] for p in parsed})
        self.assertEqual({'alice'}, {p['GlobalUserName'] for p in parsed})
        self.assertEqual({15.0}, {p['Benchmark'] for p in parsed})

        code, out = self.run_command('status')
        self.assertEqual(0, code)
        self.assertIn('window nova region=- site=CMD-SITE ends', out)
        run = json.loads(out.splitlines()[1])
        self.assertEqual(len(parsed), run['records'])

    def test_dry_run_sends_nothing(self):
        code, out = self.run_command('publish', '--dry-run')
        self.assertEqual(0, code)
        self.assertRegex(out, r'dry run: \d+ records')
        self.assertIn('windows unchanged', out)
        self.assertEqual([], test_ssm.read_queue(self.tmp + '/outgoing'))

    def test_extract_prints_json_lines_for_a_project(self):
        code, out = self.run_command('extract', '--project', 'p1',
                                     '--since', '2026-11-01')
        self.assertEqual(0, code)
        lines = [json.loads(line) for line in out.splitlines()]
        self.assertEqual(2, len({d['VMUUID'] for d in lines}))
        self.assertEqual({'vo.one'}, {d['VO'] for d in lines})
        queries = [q for path, q in self.cloud.requests
                   if path == '/servers/detail']
        self.assertTrue(all(q['project_id'] == ['p1'] for q in queries))
        self.assertIn(['2026-11-01T00:00:00Z'],
                      [q.get('changes-since') for q in queries])

    def test_bad_date_is_a_configuration_error(self):
        code, _ = self.run_command('publish', '--since', 'yesterday')
        self.assertEqual(2, code)

    def test_refused_call_fails_the_run_and_books_the_failure(self):
        self.cloud.forbidden.add('/servers/detail')
        code, _ = self.run_command('publish')
        self.assertEqual(1, code)
        code, out = self.run_command('status')
        # No window moved; the run is there, failed, with its reason.
        self.assertNotIn('window ', out)
        self.assertIn('"outcome": "failed"', out)
        self.assertIn('Nova refused GET /servers/detail', out)

    def test_refused_aggregates_warn_once_and_the_run_goes_on(self):
        # What Nova's default policy answers a reader (issue 18).
        self.cloud.forbidden.add('/os-aggregates')
        code, out = self.run_command('publish')
        self.assertEqual(0, code, out)
        self.assertIn('windows moved', out)
        [body] = test_ssm.read_queue(self.tmp + '/outgoing')
        # No benchmark in these flavors: none quoted, no host's either.
        self.assertEqual({None}, {p.get('Benchmark')
                                  for p in apel_oracle.parse(body)})

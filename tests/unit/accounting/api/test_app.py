"""The usage API over a real SQLite ledger, behind real keystonemiddleware.

Tokens are faked with keystonemiddleware's own ``AuthTokenFixture``; the
ledger, the policy engine and the outgoing queue (a ``dirq`` directory)
are the real ones.
"""

import datetime
import os

from dirq import QueueSimple
import fixtures
from keystoneauth1 import fixture as ksa_fixture
from keystonemiddleware import auth_token
from keystonemiddleware import fixture as ks_fixture
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools
import webob

from stratuslab_plugins.accounting.api import app as app_mod
from stratuslab_plugins.accounting.ledger import state as state_mod
from stratuslab_plugins.accounting.ledger import usage as usage_mod
from stratuslab_plugins.accounting.usage import cpu as cpu_mod
from stratuslab_plugins.accounting.usage import events as events_mod
from stratuslab_plugins.conf import grid as grid_conf
from stratuslab_plugins.grid import vo_map as vo_map_mod

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 3, tzinfo=UTC)
ATLAS_P, CMS_P1, CMS_P2 = 'p-atlas', 'p-cms-1', 'p-cms-2'
VOS = vo_map_mod.VOMap({ATLAS_P: 'atlas', CMS_P1: 'cms', CMS_P2: 'cms'})


def at(day, hour=0):
    return datetime.datetime(2026, 11, day, hour, tzinfo=UTC)


def sample(uuid, when, cpu_seconds):
    return cpu_mod.CpuSample(uuid, 'c1', '1', when, cpu_seconds * 10 ** 9)


def event(uuid, event_type, when, project, vcpus=2):
    return events_mod.InstanceEvent(
        instance_uuid=uuid, event_type=event_type, occurred_at=when,
        kind=events_mod.EVENT_KINDS[event_type], project_id=project,
        name='vm-' + uuid, host='c1', flavor_id='m1', vcpus=vcpus,
        memory_mb=2048, disk_gb=20,
        launched_at=when if event_type == 'instance.create.end' else None)


class APITestBase(testtools.TestCase):
    """A real ledger with three VMs, the API over it, tokens to call it."""

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.url = 'sqlite:///' + os.path.join(tmp, 'ledger.sqlite')
        self.queue_path = os.path.join(tmp, 'outgoing')
        conf = self.useFixture(config_fixture.Config(cfg.ConfigOpts())).conf
        grid_conf.register_opts(conf)
        app_mod.register_opts(conf)
        conf([], default_config_files=[])
        conf.set_override('ledger_connection', self.url, 'accounting')
        conf.set_override('output_path', self.queue_path, 'accounting_ssm')
        self.conf = conf
        ledger = self.ledger = usage_mod.UsageLedger.from_url(self.url)
        # atlas: a VM living 24 h across the first two days of November;
        # cms: one VM in each cms project, running through day 2.
        ledger.record_events([
            event('a1', 'instance.create.end', at(1, 12), ATLAS_P),
            event('a1', 'instance.delete.end', at(2, 12), ATLAS_P),
            event('c1', 'instance.create.end', at(2), CMS_P1),
            event('c2', 'instance.create.end', at(2, 18), CMS_P2),
        ])
        self.state = state_mod.StateLedger.from_url(self.url)
        self.tokens = self.useFixture(ks_fixture.AuthTokenFixture())
        # What a refusal's WWW-Authenticate names; never contacted.
        for group, opts in auth_token.list_opts():
            conf.register_opts(opts, group=group)
        conf.set_override('www_authenticate_uri', 'http://127.0.0.1:5000/v3',
                          'keystone_authtoken')
        self.app = app_mod.build_app(conf, VOS, now=lambda: NOW)

    def at_time(self, now):
        """Serve the API as it answers at ``now``."""
        self.app = app_mod.build_app(self.conf, VOS, now=lambda: now)

    def token(self, project, *roles):
        token = 'tok-%s-%s' % (project, '-'.join(roles))
        self.tokens.add_token_data(token_id=token, project_id=project,
                                   user_id='u-' + project,
                                   role_list=list(roles) or ['member'])
        return token

    def unscoped_project_token(self, scope, *roles):
        """A domain- or system-scoped token: no project at all."""
        token = ksa_fixture.V3Token(user_id='u-' + scope)
        if scope == 'system':
            token.set_system_scope()
        else:
            token.set_domain_scope(id='default', name='Default')
        for role in roles or ('member',):
            token.add_role(name=role)
        return self.tokens.add_token(token, token_id='tok-' + scope)

    def get(self, path, token=None):
        request = webob.Request.blank(path)
        if token:
            request.headers['X-Auth-Token'] = token
        response = request.get_response(self.app)
        return response.status_int, response.json_body


class UsageAPITest(APITestBase):

    def series(self, token, query='since=2026-11-01&until=2026-11-03'):
        status, body = self.get('/v1/usage?' + query, token)
        self.assertEqual(200, status, body)
        return {s['key']: [p['wall_hours'] for p in s['points']]
                for s in body['series']}

    def test_admin_sees_every_vo_split_by_day(self):
        self.assertEqual({'atlas': [12.0, 12.0], 'cms': [0.0, 30.0]},
                         self.series(self.token(ATLAS_P, 'admin')))

    def test_month_step_and_by_project(self):
        self.assertEqual(
            {ATLAS_P: [24.0], CMS_P1: [24.0], CMS_P2: [6.0]},
            self.series(self.token(ATLAS_P, 'admin'),
                        'since=2026-11-01&until=2026-11-03&step=month'
                        '&by=project'))

    def test_member_sees_only_his_project(self):
        self.assertEqual({'cms': [0.0, 24.0]},
                         self.series(self.token(CMS_P1)))

    def test_vo_manager_sees_his_vo_only(self):
        self.assertEqual({'cms': [0.0, 30.0]},
                         self.series(self.token(CMS_P1, 'vo_manager')))

    def test_vo_manager_of_a_project_without_vo_sees_nothing_else(self):
        self.assertEqual({}, self.series(self.token('p-none', 'vo_manager')))

    def test_usage_never_extends_past_the_time_of_the_request(self):
        # At noon on the 3rd, asking to the end of the month: the cms VMs
        # still run, but count only up to noon (issue 19: every running
        # VM's hours were counted up to the date asked for).
        self.at_time(at(3, 12))
        status, body = self.get('/v1/usage?since=2026-11-01&until=2026-12-01',
                                self.token(ATLAS_P, 'admin'))
        self.assertEqual(200, status, body)
        cms = {s['key']: s['points'] for s in body['series']}['cms']
        self.assertEqual([0.0, 30.0, 24.0], [p['wall_hours'] for p in cms])
        self.assertEqual([False, False, True], [p['partial'] for p in cms])
        self.assertEqual(at(3, 12).isoformat(), cms[-1]['end'])
        self.assertEqual((at(3, 12).isoformat(), '2026-12-01T00:00:00+00:00'),
                         (body['until'], body['requested_until']))

    def test_unknown_cpu_time_is_null_not_zero(self):
        # a1 has libvirt samples; the cms VMs have none.
        self.ledger.record_cpu_samples([sample('a1', at(1, 18), 3600),
                                        sample('a1', at(2, 12), 7200)])
        status, body = self.get('/v1/usage?since=2026-11-01&until=2026-11-03',
                                self.token(ATLAS_P, 'admin'))
        self.assertEqual(200, status, body)
        points = {s['key']: s['points'] for s in body['series']}
        self.assertEqual([(1.0, 0), (1.0, 0)],
                         [(p['cpu_hours'], p['cpu_unknown'])
                          for p in points['atlas']])
        # Nothing ran on the 1st (known: 0); on the 2nd two VMs ran and
        # neither's CPU time is known.
        self.assertEqual([(0.0, 0), (None, 2)],
                         [(p['cpu_hours'], p['cpu_unknown'])
                          for p in points['cms']])

    def test_cpu_before_the_first_sample_is_not_put_in_a_later_bucket(self):
        # c1 ran all of the 2nd unmeasured; its first sample, on the 3rd,
        # holds that day too: the 3rd's CPU time is unknown, not 10 h.
        self.at_time(at(4))
        self.ledger.record_cpu_samples([sample('c1', at(3, 6), 36000)])
        status, body = self.get(
            '/v1/usage?since=2026-11-02&until=2026-11-04&by=project',
            self.token(ATLAS_P, 'admin'))
        self.assertEqual(200, status, body)
        c1 = {s['key']: s['points'] for s in body['series']}[CMS_P1]
        self.assertEqual([None, None], [p['cpu_hours'] for p in c1])

    def test_records_give_usage_within_the_period_and_lifetime_totals(self):
        # a1 ran from noon on the 1st to noon on the 2nd: 12 h on the 2nd.
        self.ledger.record_cpu_samples([sample('a1', at(1, 18), 3600),
                                        sample('a1', at(2, 12), 7200)])
        status, body = self.get('/v1/records?since=2026-11-02',
                                self.token(ATLAS_P, 'admin'))
        self.assertEqual(200, status, body)
        a1 = {r['uuid']: r for r in body['records']}['a1']
        self.assertEqual((12.0, 1.0, 24.0, 2.0),
                         (a1['wall_hours'], a1['cpu_hours'],
                          a1['lifetime_wall_hours'], a1['lifetime_cpu_hours']))
        c1 = {r['uuid']: r for r in body['records']}['c1']
        self.assertEqual((24.0, None), (c1['wall_hours'], c1['cpu_hours']))

    def test_rows_without_a_project_are_shown_to_admins_only(self):
        self.ledger.record_events([
            event('x1', 'instance.create.end', at(2), None)])
        for scope in ('domain', 'system'):
            status, body = self.get('/v1/records?since=2026-11-01',
                                    self.unscoped_project_token(scope))
            self.assertEqual((200, []), (status, body['records']), scope)
            status, body = self.get('/v1/usage?since=2026-11-01',
                                    self.unscoped_project_token(scope))
            self.assertEqual((200, []), (status, body['series']), scope)
        status, body = self.get('/v1/records?since=2026-11-01',
                                self.token(ATLAS_P, 'admin'))
        self.assertIn('x1', [r['uuid'] for r in body['records']])

    def test_usage_says_since_when_the_ledger_holds_usage(self):
        status, body = self.get('/v1/usage?since=2026-11-02T20:00:00',
                                self.token(ATLAS_P, 'admin'))
        self.assertEqual((200, at(1, 12).isoformat()),
                         (status, body['recorded_since']))
        empty = 'sqlite:///' + self.useFixture(fixtures.TempDir()).join(
            'empty.sqlite')
        self.conf.set_override('ledger_connection', empty, 'accounting')
        self.app = app_mod.build_app(self.conf, VOS, now=lambda: NOW)
        status, body = self.get('/v1/usage', self.token(ATLAS_P, 'admin'))
        self.assertEqual((200, None, []),
                         (status, body['recorded_since'], body['series']))

    def test_records_carry_their_send_state(self):
        self.state.advance([('nova', '', 'SITE')], at(2, 20))
        status, body = self.get('/v1/records?since=2026-11-01',
                                self.token(ATLAS_P, 'admin'))
        self.assertEqual(200, status, body)
        states = {r['uuid']: r['send_state'] for r in body['records']}
        self.assertEqual({'a1': 'sent', 'c1': 'partial', 'c2': 'partial'},
                         states)
        self.assertEqual(at(2, 20).isoformat(), body['reported_until'])

    def test_records_before_any_run_are_pending(self):
        status, body = self.get('/v1/records', self.token(CMS_P2))
        self.assertEqual(200, status, body)
        self.assertEqual([('c2', 'pending')],
                         [(r['uuid'], r['send_state'])
                          for r in body['records']])

    def test_queue_shows_waiting_messages_to_admins_only(self):
        QueueSimple.QueueSimple(self.queue_path).add(b'APEL-cloud-message')
        self.state.advance([('nova', '', 'SITE')], at(2), records=3,
                           messages=1)
        status, body = self.get('/v1/queue', self.token(CMS_P1, 'vo_manager'))
        self.assertEqual(403, status)
        self.assertIn('accounting_api:queue:read', body['error'])
        status, body = self.get('/v1/queue', self.token(ATLAS_P, 'admin'))
        self.assertEqual(200, status, body)
        self.assertEqual((True, 1), (body['exists'], body['messages']))
        self.assertEqual([3], [run['records'] for run in body['runs']])
        self.assertEqual('published', body['last_run']['outcome'])

    def test_queue_shows_a_failed_last_run(self):
        self.state.advance([('nova', '', 'SITE')], at(2), records=3)
        self.state.record_failure([('nova', '', 'SITE')], at(3),
                                  'MessengerError: disk full', since=at(2))
        status, body = self.get('/v1/queue', self.token(ATLAS_P, 'admin'))
        self.assertEqual(200, status, body)
        self.assertEqual(('failed', 'MessengerError: disk full'),
                         (body['last_run']['outcome'],
                          body['last_run']['error']))
        self.assertEqual(['failed', 'published'],
                         [run['outcome'] for run in body['runs']])
        # What was reported is still the last published window.
        self.assertEqual(at(2).isoformat(), body['reported_until'])

    def test_missing_queue_is_reported_not_created(self):
        status, body = self.get('/v1/queue', self.token(ATLAS_P, 'admin'))
        self.assertEqual((200, False, 0),
                         (status, body['exists'], body['messages']))
        self.assertFalse(os.path.exists(self.queue_path))

    def test_no_token_is_refused(self):
        status, _body = self.get('/v1/usage')
        self.assertEqual(401, status)

    def test_bad_parameters_are_named(self):
        token = self.token(ATLAS_P, 'admin')
        for query, word in (('since=yesterday', 'since='),
                            ('step=hour', 'step='),
                            ('by=host', 'by='),
                            ('since=2026-11-02&until=2026-11-01',
                             'is not before'),
                            ('since=2026-11-05', 'future'),
                            ('since=2020-01-01', 'max_period_days'),
                            ('since=0001-01-01T00:00:00%2B01:00', 'since='),
                            ('since=%80', 'since='),
                            ('until=9999-12-31T23:59:59-01:00', 'until=')):
            status, body = self.get('/v1/usage?' + query, token)
            self.assertEqual(400, status, query)
            self.assertIn(word, body['error'])

    def test_no_ledger_says_what_to_configure(self):
        self.conf.set_override('ledger_connection', '', 'accounting')
        app = app_mod.build_app(self.conf, VOS, now=lambda: NOW)
        self.app = app
        status, body = self.get('/v1/usage', self.token(ATLAS_P, 'admin'))
        self.assertEqual(503, status)
        self.assertIn('[accounting] ledger_connection', body['error'])

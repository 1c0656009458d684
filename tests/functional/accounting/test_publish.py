"""A publish run against a real Nova, with crashes injected.

Starts the in-process Nova (``NovaTestCase``), boots servers, and runs
the accounting manager with the real ``nova`` extractor, the real ``ssm``
messenger (a dirq queue in a temporary directory) and a SQLite ledger.
Failures are injected where no real component fails on demand: in the
extractor after the first server (between extraction and enqueue) and in
the ledger (between enqueue and bookkeeping). Each leaves the window where
it was, and the next run resends: every server ends up in the queue, some
twice, none missing.
"""

import datetime
from unittest import mock

import fixtures
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.extractors import nova
from stratuslab_plugins.accounting.ledger import state
from stratuslab_plugins.accounting import manager
from stratuslab_plugins.accounting.messengers import ssm
from tests.functional import nova_base
from tests.unit.accounting import apel_oracle
from tests.unit.accounting import fakes
from tests.unit.accounting.messengers import test_ssm

UTC = datetime.timezone.utc
KEY = ('nova', '', 'TEST-SITE')


class TestPublishWithCrashes(nova_base.NovaTestCase):

    def setUp(self):
        super().setUp()
        self.start_computes('host1')
        tmp = self.useFixture(fixtures.TempDir()).path
        self.queue = tmp + '/outgoing'
        # One record a message and two servers a page, so a crash on the
        # third server comes after one message is already queued.
        self.conf = fakes.make_conf(
            accounting={'page_size': 2},
            accounting_ssm={'output_path': self.queue, 'max_records': 1})
        self.ledger = state.StateLedger.from_url(
            'sqlite:///%s/ledger.db' % tmp)
        self.session = ks_session.Session(
            auth=noauth.NoAuth(endpoint=self.api.base_url),
            additional_headers={
                'X-Auth-User': 'admin', 'X-User-Id': 'admin',
                'X-Auth-Project-Id': self.api.project_id,
                'X-Roles': 'admin,reader,member'})
        self.servers = [self._create_server(name='vm-%d' % i,
                                            networks='none')
                        for i in range(3)]

    def manager(self):
        context = builders.RecordContext(
            site_name='TEST-SITE',
            vo_for_project={self.api.project_id: 'vo.one'}.get)
        kinds = manager.enabled_kinds(self.conf)
        return manager.Manager(
            self.conf, {'nova': nova.NovaExtractor},
            [ssm.SSMMessenger(self.conf, kinds)], self.ledger, context,
            self.session)

    def queued(self):
        return [r['VMUUID'] for body in test_ssm.read_queue(self.queue)
                for r in apel_oracle.parse(body)]

    def test_crashes_lose_nothing(self):
        expected = sorted(s['id'] for s in self.servers)

        # 1. Between extraction and enqueue: the extractor dies on the
        # third server, after the first record was queued.
        real = nova.NovaExtractor.server_usage
        calls = []

        def dying(extractor, *args):
            calls.append(1)
            if len(calls) > 2:
                raise exceptions.ExtractorError('injected crash')
            return real(extractor, *args)

        with mock.patch.object(nova.NovaExtractor, 'server_usage', dying):
            self.assertRaises(exceptions.ExtractorError,
                              self.manager().publish)
        self.assertIsNone(self.ledger.window_end(KEY))
        self.assertEqual(1, len(self.queued()))

        # 2. Between enqueue and bookkeeping: everything is queued, the
        # ledger fails.
        with mock.patch.object(self.ledger, 'advance', side_effect=(
                exceptions.LedgerError('injected ledger failure'))):
            self.assertRaises(exceptions.LedgerError,
                              self.manager().publish)
        self.assertIsNone(self.ledger.window_end(KEY))
        self.assertEqual(expected, sorted(set(self.queued())))

        # 3. A clean run books the window; nothing was lost on the way,
        # records were sent two or three times (harmless REPLACE).
        until = datetime.datetime.now(UTC)
        result = self.manager().publish(until=until)
        self.assertTrue(result.windows_moved)
        self.assertEqual(int(until.timestamp()),
                         int(self.ledger.window_end(KEY).timestamp()))
        queued = self.queued()
        self.assertEqual(expected, sorted(set(queued)))
        self.assertEqual(1 + 3 + 3, len(queued))

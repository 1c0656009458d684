"""A run end to end with real messengers and ledger, crashes injected.

The extractor is a plain-data fake (the cloud is not under test here);
the SSM queue is a real dirq directory and the ledger a real SQLite file.
"""

import datetime
from unittest import mock

import fixtures
import testtools

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.extractors import base
from stratuslab_plugins.accounting.ledger import state
from stratuslab_plugins.accounting import manager
from stratuslab_plugins.accounting.messengers import ssm
from tests.unit.accounting import apel_oracle
from tests.unit.accounting import fakes
from tests.unit.accounting.messengers import test_ssm

UTC = datetime.timezone.utc
T1 = datetime.datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
T2 = T1 + datetime.timedelta(hours=1)
KEY = ('fake', '', 'TEST-SITE')


class FailingMessenger(ssm.SSMMessenger):
    """An ssm messenger whose flush fails after writing everything."""

    def flush(self):
        super().flush()
        raise exceptions.MessengerError('injected: flush failed')


class TestManager(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.queue = tmp + '/outgoing'
        self.conf = fakes.make_conf(
            accounting={'first_run_lookback_days': 1},
            accounting_ssm={'output_path': self.queue})
        self.ledger = state.StateLedger.from_url(
            'sqlite:///%s/ledger.db' % tmp)
        fakes.ListExtractor.calls = []
        self.useFixture(fixtures.MonkeyPatch(
            'tests.unit.accounting.fakes.ListExtractor.FAIL_AFTER', None))

    def manager(self, messenger_class=ssm.SSMMessenger):
        kinds = manager.enabled_kinds(self.conf)
        return manager.Manager(
            self.conf, {'fake': fakes.ListExtractor},
            [messenger_class(self.conf, kinds)], self.ledger,
            fakes.context())

    def queued(self):
        uuids = []
        for body in test_ssm.read_queue(self.queue):
            uuids.extend(r['VMUUID'] for r in apel_oracle.parse(body))
        return uuids

    def test_publish_moves_window_after_handover(self):
        result = self.manager().publish(until=T1)

        self.assertEqual(180, result.records)
        self.assertEqual({'p-novo'}, result.skipped_projects)
        self.assertEqual(2, result.messages)  # 100 + 80
        self.assertEqual(180, len(set(self.queued())))
        self.assertEqual(T1, self.ledger.window_end(KEY))
        self.assertTrue(result.windows_moved)
        first_since = fakes.ListExtractor.calls[0][0]
        self.assertEqual(T1 - datetime.timedelta(days=1), first_since)

    def test_next_run_starts_where_the_last_ended(self):
        self.manager().publish(until=T1)
        self.manager().publish(until=T2)
        self.assertEqual(T1, fakes.ListExtractor.calls[1][0])
        self.assertEqual(T2, self.ledger.window_end(KEY))

    def test_crash_between_extraction_and_enqueue_loses_nothing(self):
        self.manager().publish(until=T1)
        before = len(self.queued())
        fakes.ListExtractor.FAIL_AFTER = 120

        self.assertRaises(RuntimeError, self.manager().publish, until=T2)

        # The window did not move; what was queued (the first full
        # message) is a harmless resend.
        self.assertEqual(T1, self.ledger.window_end(KEY))
        self.assertEqual(before + 100, len(self.queued()))
        fakes.ListExtractor.FAIL_AFTER = None
        self.manager().publish(until=T2)
        self.assertEqual(T1, fakes.ListExtractor.calls[-1][0])
        self.assertEqual(T2, self.ledger.window_end(KEY))
        self.assertEqual(180, len(set(self.queued())))

    def test_crash_between_enqueue_and_bookkeeping_resends(self):
        with mock.patch.object(
                self.ledger, 'advance',
                side_effect=exceptions.LedgerError('injected: ledger down')):
            self.assertRaises(exceptions.LedgerError, self.manager().publish,
                              until=T1)
        self.assertEqual(180, len(self.queued()))
        self.assertIsNone(self.ledger.window_end(KEY))

        self.manager().publish(until=T2)
        # Still a first run (no window booked): every record is queued
        # twice, none lost.
        self.assertEqual(T2 - datetime.timedelta(days=1),
                         fakes.ListExtractor.calls[1][0])
        queued = self.queued()
        self.assertEqual(360, len(queued))
        self.assertEqual(180, len(set(queued)))
        self.assertEqual(T2, self.ledger.window_end(KEY))

    def test_messenger_failure_keeps_the_window(self):
        self.assertRaises(exceptions.MessengerError,
                          self.manager(FailingMessenger).publish, until=T1)
        self.assertIsNone(self.ledger.window_end(KEY))

    def test_a_failed_run_is_booked_with_its_error(self):
        # Issue 19: a failed publish left no trace, and the dashboard's
        # queue section said "no run yet".
        self.manager().publish(until=T1)
        self.assertRaises(exceptions.MessengerError,
                          self.manager(FailingMessenger).publish, until=T2)
        failed, published = self.ledger.last_runs()
        self.assertEqual(('failed', T2, T1),
                         (failed['outcome'], failed['window_end'],
                          failed['window_start']))
        self.assertEqual('MessengerError: injected: flush failed',
                         failed['error'])
        self.assertEqual('published', published['outcome'])
        self.assertEqual(T1, self.ledger.window_end(KEY))

    def test_one_off_and_dry_runs_that_fail_are_not_booked(self):
        for kwargs in ({'dry_run': True}, {'projects': ['p1']},
                       {'since': T1 - datetime.timedelta(days=1)}):
            fakes.ListExtractor.FAIL_AFTER = 10
            self.assertRaises(RuntimeError, self.manager().publish,
                              until=T1, **kwargs)
        self.assertEqual([], self.ledger.last_runs())

    def test_one_off_runs_do_not_move_the_window(self):
        self.manager().publish(until=T1)
        result = self.manager().publish(since=T1 - datetime.timedelta(
            days=30), until=T2)
        self.assertFalse(result.windows_moved)
        self.manager().publish(until=T2, projects=['p1'])
        self.assertEqual(T1, self.ledger.window_end(KEY))
        self.assertEqual(['p1'], fakes.ListExtractor.calls[-1][2])

    def test_dry_run_hands_nothing_over(self):
        result = self.manager().publish(until=T1, dry_run=True)
        self.assertEqual(180, result.records)
        self.assertEqual([], self.queued())
        self.assertIsNone(self.ledger.window_end(KEY))

    def test_ip_extractor_needs_its_flag(self):
        class IPOnly(base.Extractor):
            kinds = ('ip',)

            def extract(self, since, until, context, projects=None):
                return iter(())

        exc = self.assertRaises(
            exceptions.ConfigurationError, manager.Manager, self.conf,
            {'neutron': IPOnly}, [], self.ledger, fakes.context())
        self.assertIn('ip_records', str(exc))

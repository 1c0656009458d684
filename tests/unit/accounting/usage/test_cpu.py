"""CPU seconds from libvirt samples across restarts and migrations."""

import datetime

import testtools

from stratuslab_plugins.accounting.usage import cpu
from stratuslab_plugins.accounting.usage import events
from tests.unit.accounting.usage import nova_payloads as nova

UUID = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c0003'
S = cpu.NANOSECONDS


def sample(minute, seconds, run='1', host='cn1'):
    return cpu.CpuSample(UUID, host, run, nova.at(minute), seconds * S)


class CpuSecondsTest(testtools.TestCase):

    def test_last_reading_of_each_run_adds_up(self):
        samples = [sample(1, 30), sample(2, 90), sample(5, 10, run='2'),
                   sample(6, 40, run='2'), sample(8, 5, run='1',
                                                  host='cn2')]
        self.assertEqual(90 + 40 + 5, cpu.cpu_seconds(samples))

    def test_order_and_duplicates_do_not_matter(self):
        samples = [sample(2, 90), sample(1, 30), sample(2, 90)]
        self.assertEqual(90, cpu.cpu_seconds(list(reversed(samples))))

    def test_a_missed_restart_in_the_same_run_is_detected(self):
        self.assertEqual(90 + 20, cpu.cpu_seconds(
            [sample(1, 90), sample(2, 20)]))

    def test_until_ignores_later_samples(self):
        samples = [sample(1, 30), sample(9, 600)]
        self.assertEqual(30, cpu.cpu_seconds(samples, nova.at(5)))
        self.assertIsNone(cpu.cpu_seconds(samples, nova.at(0)))
        self.assertIsNone(cpu.cpu_seconds([]))

    def test_interpolation_spreads_a_run_between_two_readings(self):
        samples = [sample(0, 0), sample(10, 600), sample(20, 900),
                   sample(12, 50, run='2')]
        # Run 1 gained 600 s over minutes 0-10: 240 s by minute 4. Run 2
        # had not been read by then.
        self.assertEqual(240, cpu.cpu_seconds(samples, nova.at(4),
                                              interpolate=True))
        self.assertEqual(750 + 50, cpu.cpu_seconds(
            samples, nova.at(15), interpolate=True))
        # After the last reading of a run, nothing is made up.
        self.assertEqual(950, cpu.cpu_seconds(samples, nova.at(60),
                                              interpolate=True))
        self.assertEqual(600, cpu.cpu_seconds(samples, nova.at(10),
                                              interpolate=True))

    def test_interpolation_stops_at_a_missed_restart(self):
        # The counter fell between minutes 10 and 20: that run ended at
        # its minute-10 reading, nothing of the next one is spread back.
        samples = [sample(0, 0), sample(10, 600), sample(20, 30)]
        self.assertEqual(600, cpu.cpu_seconds(samples, nova.at(15),
                                              interpolate=True))


class RunIdentityTest(testtools.TestCase):

    def test_runs_of_one_domain_id_in_two_boots_add_up(self):
        # After a reboot libvirt numbers domains from 1 again: the new
        # run's first reading above the old run's last must not hide it.
        samples = [sample(1, 30, run='1@aaaa0000'),
                   sample(2, 100, run='1@aaaa0000'),
                   sample(9, 150, run='1@bbbb1111')]
        self.assertEqual(250, cpu.cpu_seconds(samples))

    def test_an_upgraded_agent_continues_an_old_agents_run(self):
        # The old agent named the run '4'; the upgraded one reads the
        # same QEMU process as '4:...': its readings include the old ones.
        samples = [sample(1, 30, run='4'), sample(2, 100, run='4'),
                   sample(3, 130, run='4:2877@aaaa0000'),
                   sample(4, 160, run='4:2877@aaaa0000')]
        self.assertEqual(160, cpu.cpu_seconds(samples))

    def test_a_lower_reading_of_one_process_is_dropped(self):
        # A QEMU process being torn down can read low: never a restart,
        # which would be a new process and a new run id.
        run = '4:2877@aaaa0000'
        samples = [sample(1, 30, run=run), sample(2, 100, run=run),
                   sample(3, 1, run=run)]
        self.assertEqual(100, cpu.cpu_seconds(samples))

    def test_an_old_run_followed_by_a_new_process_is_kept(self):
        samples = [sample(1, 30, run='4'), sample(2, 100, run='4'),
                   sample(5, 20, run='4:9000@aaaa0000'),
                   sample(7, 40, run='5:9100@aaaa0000')]
        self.assertEqual(100 + 20 + 40, cpu.cpu_seconds(samples))


class PayloadTest(testtools.TestCase):

    def test_round_trip(self):
        samples = [sample(1, 30), sample(2, 90, run='7')]
        payload = cpu.to_payload('cn1', samples)
        self.assertEqual(samples, cpu.from_payload(payload))

    def test_other_major_version_is_refused(self):
        payload = cpu.to_payload('cn1', [sample(1, 30)])
        payload['version'] = '2.0'
        exc = self.assertRaises(events.MalformedNotification,
                                cpu.from_payload, payload)
        self.assertIn("'2.0'", str(exc))

    def test_incomplete_sample_names_the_host(self):
        payload = {'version': '1.0', 'host': 'cn9',
                   'samples': [{'instance_uuid': UUID}]}
        exc = self.assertRaises(events.MalformedNotification,
                                cpu.from_payload, payload)
        self.assertIn('cn9', str(exc))

    def test_sample_with_an_oversized_run_id_is_refused(self):
        payload = cpu.to_payload('cn1', [sample(1, 30, run='r' * 65)])
        exc = self.assertRaises(events.MalformedNotification,
                                cpu.from_payload, payload)
        self.assertIn('run_id is 65 characters long', str(exc))

    def test_payload_without_host_is_refused(self):
        payload = cpu.to_payload('cn1', [sample(1, 30)])
        del payload['host']
        exc = self.assertRaises(events.MalformedNotification,
                                cpu.from_payload, payload)
        self.assertIn('names no host', str(exc))

    def test_times_are_utc(self):
        payload = cpu.to_payload('cn1', [sample(1, 30)])
        self.assertEqual(datetime.timezone.utc,
                         cpu.from_payload(payload)[0].sampled_at.tzinfo)


class HostilePayloadTest(testtools.TestCase):
    """Refused with MalformedNotification, never another exception."""

    def refused(self, payload, *expected):
        exc = self.assertRaises(events.MalformedNotification,
                                cpu.from_payload, payload)
        for text in expected:
            self.assertIn(text, str(exc))
        self.assertLess(len(str(exc)), 500)

    def payload(self, **values):
        payload = cpu.to_payload('cn1', [sample(1, 30)])
        payload['samples'][0].update(values)
        return payload

    def test_counter_out_of_range(self):
        self.refused(self.payload(cpu_time_ns=float('inf')),
                     'cpu_time_ns is inf, not an integer')
        self.refused(self.payload(cpu_time_ns=2 ** 63), 'outside')
        self.refused(self.payload(cpu_time_ns=-1), 'outside')

    def test_sample_that_is_not_an_object(self):
        payload = cpu.to_payload('cn1', [sample(1, 30)])
        payload['samples'] = [['x'] * 1000]
        self.refused(payload, "sample ['x', 'x', 'x', 'x', ...] is not an")

    def test_version_of_another_type(self):
        payload = self.payload()
        payload['version'] = [[[['1']]]]
        self.refused(payload, 'payload version [[[...]]]')

    def test_time_out_of_range(self):
        self.refused(self.payload(sampled_at='0001-01-01T00:00:00+01:00'),
                     'sampled_at is outside')

    def test_too_many_samples(self):
        payload = cpu.to_payload('cn1', [sample(1, 30)] * (
            cpu.MAX_SAMPLES + 1))
        self.refused(payload, 'more than the 10000')

    def test_null_values_are_missing_values(self):
        # Found by tests/unit/accounting/usage/test_fuzz.py.
        self.refused(self.payload(sampled_at=None), 'incomplete (no '
                     'sampled_at)')
        self.refused(self.payload(instance_uuid=None, cpu_time_ns=''),
                     'incomplete (no cpu_time_ns, instance_uuid)')

"""Reading Nova's versioned notifications as usage events."""

import testtools

from stratuslab_plugins.accounting.usage import events
from tests.unit.accounting.usage import nova_payloads as nova

UUID = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c0001'


class ParseNotificationTest(testtools.TestCase):

    def test_create_starts_at_launch_not_at_the_envelope_time(self):
        event_type, payload, metadata = nova.notification(
            'instance.create.end', UUID, nova.at(3), nova.at(1))
        event = events.parse_notification(event_type, payload, metadata)
        self.assertEqual(nova.at(1), event.occurred_at)
        self.assertEqual(events.RUNNING, event.kind)
        self.assertEqual(('proj-a', 'user-a', 'vm', 'img-1', 'compute1'),
                         (event.project_id, event.user_id, event.name,
                          event.image_id, event.host))
        self.assertEqual((2, 4096, 20, 'm1.medium'),
                         (event.vcpus, event.memory_mb, event.disk_gb,
                          event.flavor_id))

    def test_transition_takes_the_envelope_time_to_the_microsecond(self):
        when = nova.at(5).replace(microsecond=123456)
        event = events.parse_notification(*nova.notification(
            'instance.suspend.end', UUID, when, nova.at(0)))
        self.assertEqual(when, event.occurred_at)
        self.assertEqual(events.SUSPENDED, event.kind)

    def test_delete_keeps_its_precise_envelope_time(self):
        # terminated_at is whole seconds: the envelope orders the delete
        # after the other events of its last second.
        when = nova.at(9).replace(microsecond=500000)
        _, payload, metadata = nova.notification(
            'instance.delete.end', UUID, when, nova.at(0))
        event = events.parse_notification('instance.delete.end', payload,
                                          metadata)
        self.assertEqual((when, events.DELETED),
                         (event.occurred_at, event.kind))
        del metadata['timestamp']
        event = events.parse_notification('instance.delete.end', payload,
                                          metadata)
        self.assertEqual(nova.at(9), event.occurred_at)

    def test_exists_reads_the_state(self):
        for state, kind in (('active', events.RUNNING),
                            ('suspended', events.SUSPENDED),
                            ('shelved_offloaded', events.OFFLOADED),
                            ('error', None)):
            event = events.parse_notification(*nova.notification(
                events.EXISTS, UUID, nova.at(60), nova.at(0), state=state))
            self.assertEqual(kind, event.kind, state)

    def test_disk_is_root_plus_ephemeral(self):
        flavor = nova.flavor_payload(root_gb=10, ephemeral_gb=5)
        event = events.parse_notification(*nova.notification(
            'instance.create.end', UUID, nova.at(0), nova.at(0),
            flavor=flavor))
        self.assertEqual(15, event.disk_gb)

    def test_the_same_notification_gives_the_same_key(self):
        message = nova.notification('instance.power_off.end', UUID,
                                    nova.at(4), nova.at(0))
        self.assertEqual(events.parse_notification(*message).key,
                         events.parse_notification(*message).key)

    def test_unversioned_payload_is_refused_with_the_nova_option(self):
        exc = self.assertRaises(
            events.MalformedNotification, events.parse_notification,
            'instance.create.end', {'instance_id': UUID},
            {'timestamp': '2026-01-01 00:00:00', 'message_id': 'm-1'})
        self.assertIn('m-1', str(exc))
        self.assertIn('notification_format', str(exc))

    def test_missing_uuid_names_the_event(self):
        _, payload, metadata = nova.notification(
            'instance.resume.end', UUID, nova.at(1), nova.at(0))
        del payload['nova_object.data']['uuid']
        exc = self.assertRaises(events.MalformedNotification,
                                events.parse_notification,
                                'instance.resume.end', payload, metadata)
        self.assertIn('instance.resume.end', str(exc))
        self.assertIn('uuid', str(exc))

    def test_bad_time_names_the_field(self):
        _, payload, metadata = nova.notification(
            'instance.resume.end', UUID, nova.at(1), nova.at(0))
        metadata['timestamp'] = 'yesterday'
        exc = self.assertRaises(events.MalformedNotification,
                                events.parse_notification,
                                'instance.resume.end', payload, metadata)
        self.assertIn("timestamp is 'yesterday'", str(exc))

    def test_bad_vcpus_names_the_field(self):
        _, payload, metadata = nova.notification(
            'instance.resume.end', UUID, nova.at(1), nova.at(0))
        payload['nova_object.data']['flavor']['nova_object.data'][
            'vcpus'] = 'many'
        exc = self.assertRaises(events.MalformedNotification,
                                events.parse_notification,
                                'instance.resume.end', payload, metadata)
        self.assertIn('vcpus', str(exc))

    def test_identifier_longer_than_the_ledger_keeps_is_refused(self):
        _, payload, metadata = nova.notification(
            'instance.resume.end', UUID, nova.at(1), nova.at(0))
        payload['nova_object.data']['tenant_id'] = 'p' * 65
        exc = self.assertRaises(events.MalformedNotification,
                                events.parse_notification,
                                'instance.resume.end', payload, metadata)
        self.assertIn('project_id is 65 characters long, more than the 64',
                      str(exc))

    def test_display_fields_are_cut_to_fit(self):
        _, payload, metadata = nova.notification(
            'instance.resume.end', UUID, nova.at(1), nova.at(0))
        payload['nova_object.data']['display_name'] = 'n' * 300
        metadata['message_id'] = 'm' * 100
        event = events.parse_notification('instance.resume.end', payload,
                                          metadata)
        self.assertEqual(('n' * 255, 'm' * 64),
                         (event.name, event.message_id))

    def test_unhandled_event_type_is_refused(self):
        self.assertRaises(events.MalformedNotification,
                          events.parse_notification, 'instance.update',
                          {}, {})


def _mutated(event_type, change, metadata_change=None):
    """A Nova notification of ``event_type`` with one value made hostile."""
    _, payload, metadata = nova.notification(event_type, UUID, nova.at(5),
                                             nova.at(0))
    change(payload['nova_object.data'])
    if metadata_change:
        metadata_change(metadata)
    return event_type, payload, metadata


def _flavor(**values):
    return lambda data: data['flavor']['nova_object.data'].update(values)


class HostileValuesTest(testtools.TestCase):
    """Each refused with MalformedNotification naming the field.

    Every one of these escaped as another exception (TypeError,
    OverflowError, AttributeError) or reached the database before.
    """

    def refused(self, message, *expected):
        exc = self.assertRaises(events.MalformedNotification,
                                events.parse_notification, *message)
        for text in expected:
            self.assertIn(text, str(exc))
        self.assertLess(len(str(exc)), 500)
        return exc

    def test_wrong_types(self):
        self.refused(_mutated(events.EXISTS,
                              lambda d: d.update(state=['active'])),
                     'state is', 'not a string')
        self.refused(_mutated('instance.create.end',
                              lambda d: d.update(uuid=[UUID])),
                     'instance_uuid is', 'not a string')
        self.refused(_mutated('instance.create.end',
                              lambda d: d.update(tenant_id={'a': 1})),
                     'project_id is')
        self.refused(_mutated('instance.create.end',
                              lambda d: d.update(display_name=[1] * 1000)),
                     'display_name is [1, 1, 1, 1, ...]')
        self.refused(_mutated('instance.create.end',
                              lambda d: d.update(flavor='m1.small')),
                     "flavor is 'm1.small'")

    def test_payload_that_is_not_an_object(self):
        _, payload, metadata = nova.notification(
            'instance.suspend.end', UUID, nova.at(5), nova.at(0))
        payload['nova_object.data'] = [UUID]
        self.refused(('instance.suspend.end', payload, metadata),
                     'nova_object.data is', 'not an object')
        self.refused(('instance.suspend.end', [payload], metadata),
                     'not a versioned Nova object')

    def test_sizes_out_of_range(self):
        for value, text in ((float('inf'), 'inf, not an integer'),
                            (float('nan'), 'nan, not an integer'),
                            (10 ** 30, 'outside [0, 2147483647]'),
                            (-4, '-4, outside'),
                            (True, 'True, not an integer'),
                            (2.5, '2.5, not an integer'),
                            ('\u00b2', 'not an integer')):
            self.refused(_mutated('instance.create.end', _flavor(vcpus=value)),
                         'flavor vcpus is', text)
        self.refused(_mutated('instance.create.end',
                              _flavor(memory_mb=2 ** 31)), 'memory_mb')
        self.refused(_mutated('instance.create.end', _flavor(
            root_gb=2 ** 31 - 1, ephemeral_gb=2 ** 31 - 1)),
            'root_gb + ephemeral_gb')

    def test_sizes_nova_writes_are_read(self):
        event = events.parse_notification(*_mutated(
            'instance.create.end', _flavor(vcpus='4', memory_mb=512.0)))
        self.assertEqual((4, 512), (event.vcpus, event.memory_mb))

    def test_times_out_of_range(self):
        for value in ('0001-01-01T00:00:00+01:00',
                      '9999-12-31T23:59:59-01:00', '1999-12-31T23:59:59Z',
                      '2100-01-01T00:00:00Z', '2026-01-01T00:00:00' * 10,
                      10 ** 20, ['2026-01-01']):
            self.refused(_mutated('instance.create.end',
                                  lambda d: d.update(launched_at=value)),
                         'launched_at')
        self.refused(_mutated('instance.suspend.end', lambda d: None,
                              lambda m: m.update(
                                  timestamp='0001-01-01 00:00:00+01:00')),
                     'timestamp is outside [2000-01-01, 2100-01-01)')

    def test_metadata_that_is_not_an_object_means_no_timestamp(self):
        _, payload, _ = nova.notification('instance.suspend.end', UUID,
                                          nova.at(5), nova.at(0))
        self.refused(('instance.suspend.end', payload, ['x']),
                     'has no timestamp')

    def test_identifier_with_control_characters_is_refused(self):
        self.refused(_mutated('instance.create.end',
                              lambda d: d.update(tenant_id='proj\x00a')),
                     'project_id is', 'control or unpaired')

    def test_display_name_is_made_storable(self):
        # JSON carries unpaired surrogates; UTF-8 (SQLite, the drivers)
        # cannot, and PostgreSQL refuses NUL.
        event = events.parse_notification(*_mutated(
            'instance.create.end',
            lambda d: d.update(display_name='a\ud800b\x00c\U0001f680')))
        self.assertEqual('a\ufffdb\ufffdc\U0001f680', event.name)
        event.name.encode('utf-8')

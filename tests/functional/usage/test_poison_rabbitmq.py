"""Poison notifications on a real RabbitMQ: kept, acknowledged, never requeued.

Starts a private RabbitMQ node (Debian's rabbitmq-server, see
``tests/functional/rabbitmq_fixture.py``) and the
``stratuslab-accounting-listener`` process on a SQLite ledger. Among
Nova-shaped notifications (Nova 34's spelling) it publishes some whose
values have the wrong type or are out of range, one whose display name
holds an unpaired surrogate (JSON carries it, UTF-8 does not), and raw
messages whose oslo.messaging envelope has a priority that is not a
string (published with kombu, as a broken or hostile publisher could).
Proves that the queue drains (nothing is requeued for ever), every valid
event is stored, and each poison one is in ``usage_rejected`` with its
reason.
"""

import json
import uuid

import kombu

from stratuslab_plugins.accounting.usage import events
from tests.functional.usage import test_listener_rabbitmq as base
from tests.unit.accounting.usage import nova_payloads as nova


def _poisoned(instance, change, event_type=events.EXISTS):
    event_type, payload, metadata = nova.notification(
        event_type, instance, nova.at(12), nova.at(0))
    change(payload['nova_object.data'])
    return event_type, payload, metadata


def _flavor(**values):
    return lambda data: data['flavor']['nova_object.data'].update(values)


#: (change to a Nova payload, what the reason says)
POISON = [
    (lambda d: d.update(state=['active']), "state is ['active']"),
    (lambda d: d.update(uuid={'id': 1}), 'instance_uuid is'),
    (_flavor(vcpus='many'), "flavor vcpus is 'many', not an integer"),
    (_flavor(memory_mb=10 ** 40), 'flavor memory_mb is 1000'),
    (_flavor(vcpus=float('inf')), 'flavor vcpus is inf'),
    (lambda d: d.update(launched_at='0001-01-01T00:00:00+01:00'),
     'launched_at is outside [2000-01-01, 2100-01-01)'),
    (lambda d: d.update(flavor=['m1.small']), "flavor is ['m1.small']"),
]


class PoisonMessagesTest(base.ListenerProcessTest):

    def publish_raw(self, messages):
        """Publish oslo.messaging envelopes as they are, with kombu."""
        url = self.broker.url.replace('rabbit://', 'amqp://')
        with kombu.Connection(url) as connection:
            producer = connection.Producer(serializer='json')
            for message in messages:
                producer.publish(
                    {'oslo.version': '2.0',
                     'oslo.message': json.dumps(message)},
                    exchange='nova', routing_key='%s.info' % self.topic)

    def test_poison_is_kept_and_the_stream_goes_on(self):
        uuids = [str(uuid.uuid4()) for _ in range(30)]
        good = [m for u in uuids for m in nova.lifecycle(u, base.STEPS)]
        poison = [_poisoned(uuids[i], change)
                  for i, (change, _) in enumerate(POISON)]
        odd_name = str(uuid.uuid4())
        # Interleaved, so poison and good share batches.
        stream = good[:50] + poison + good[50:] + nova.lifecycle(
            odd_name, base.STEPS[:1], name='vm-\ud800')
        self.publish(stream)
        _, payload, _ = nova.notification('instance.create.end', uuids[0],
                                          nova.at(0), nova.at(0))
        self.publish_raw([
            {'message_id': str(uuid.uuid4()), 'publisher_id': 'rogue',
             'event_type': 'instance.create.end', 'priority': priority,
             'payload': payload, 'timestamp': '2026-03-01 12:00:00.000000'}
            for priority in (None, 7)])
        queue = '%s.info' % self.topic
        self.assertEqual(len(stream) + 2, self.queued(queue))

        self.start_listener('listener')
        self.wait_for(lambda: self.queued(queue) == 0, what='an empty queue')
        self.wait_for(lambda: len(self.ledger.rejected()) == len(POISON) + 2,
                      what='the rejects')
        self.assertEqual(len(good) + 1, self.stored_events())
        rejected = self.ledger.rejected()
        reasons = ' | '.join(row.reason for row in rejected)
        for _, expected in POISON:
            self.assertIn(expected, reasons)
        self.assertEqual(2, reasons.count(
            'oslo.messaging cannot read its envelope (AttributeError'))
        for row in rejected:
            self.assertTrue(row.payload)
        usages = self.ledger.usage_by_instance(nova.at(-1), nova.at(60))
        self.assertEqual(set(uuids) | {odd_name}, set(usages))
        for instance in uuids:
            self.assertEqual((20 * 60, 10 * 60, 'deleted'),
                             (usages[instance].wall_seconds,
                              usages[instance].suspend_seconds,
                              usages[instance].status))
        self.assertEqual('vm-\ufffd', usages[odd_name].name)
        # Nothing comes back later either.
        self.assertEqual(0, self.queued(queue))

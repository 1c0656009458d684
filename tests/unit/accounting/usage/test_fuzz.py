"""Property-based fuzzing of the notification payloads the listener reads.

Hypothesis starts from payloads in Nova's exact spelling (and the agents'
CPU samples) and replaces values anywhere in them with hostile JSON:
huge, negative, fractional or non-finite numbers, nested lists and
objects, strings with NUL, control characters and unpaired surrogates,
times out of range. Whatever it builds, only the documented
``MalformedNotification`` escapes, with a message of bounded size, and
what is accepted is within the ledger's bounds; what the listener keeps
of a refused one (``usage_rejected``) is bounded ASCII; a parse takes
memory within a fixed multiple of the message's size.
"""

import datetime
import json

import hypothesis
from hypothesis import strategies as st
import testtools

from stratuslab_plugins.accounting.ledger import usage_writer
from stratuslab_plugins.accounting.usage import cpu
from stratuslab_plugins.accounting.usage import events
from stratuslab_plugins.accounting.usage import fields
from stratuslab_plugins.accounting.usage import listener
from tests.unit.accounting.usage import nova_payloads as nova
from tests.unit.grid import fuzzing

UUID = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c0001'
#: Longest error message a refusal may carry.
MAX_REASON = 1000

SETTINGS = hypothesis.settings(
    max_examples=200, deadline=None, database=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow])

_texts = st.text(alphabet=st.characters(blacklist_categories=()),
                 max_size=80)
_numbers = st.one_of(
    st.integers(), st.integers(min_value=-2 ** 70, max_value=2 ** 70),
    st.floats(), st.sampled_from([float('inf'), float('nan'), 2 ** 31,
                                  2 ** 63, -1, 0, 1.5, 1e999]))
_times = st.one_of(
    st.datetimes(timezones=st.just(datetime.timezone.utc)).map(
        lambda t: t.isoformat()),
    st.sampled_from(['0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-14:00',
                     '2026-03-01T12:00:00Z', '2026-03-01 12:00:00.000001',
                     '\u00b2026-01-01T00:00:00Z', '']))
_scalars = st.one_of(st.none(), st.booleans(), _numbers, _texts, _times)
_json = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(_texts, inner, max_size=4)), max_leaves=12)

_event_types = st.one_of(st.sampled_from(events.HANDLED_EVENT_TYPES), _json)


def _paths(value, prefix=()):
    """Every (path, value) inside a JSON value."""
    yield prefix, value
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _paths(inner, prefix + (index,))


def _replace(document, path, value):
    if not path:
        return value
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


@st.composite
def mutated(draw, original):
    """``original`` (a JSON document) with 1 to 3 values replaced."""
    document = json.loads(json.dumps(original))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = [path for path, _ in _paths(document)]
        path = draw(st.sampled_from(paths))
        document = _replace(document, path, draw(_json))
    return document


@st.composite
def nova_messages(draw):
    event_type = draw(st.sampled_from(events.HANDLED_EVENT_TYPES))
    _, payload, metadata = nova.notification(event_type, UUID, nova.at(5),
                                             nova.at(0))
    message = draw(mutated({'event_type': event_type, 'payload': payload,
                            'metadata': metadata}))
    if not isinstance(message, dict):
        message = {'payload': message}
    return message


def _check_refusal(test, exc):
    test.assertLess(len(str(exc)), MAX_REASON)


def _check_stored_text(test, text, limit):
    test.assertLessEqual(len(text), limit)
    text.encode('ascii')
    test.assertNotIn('\x00', text)


class NotificationFuzzTest(testtools.TestCase):

    def check_event(self, event):
        for field, limit in fields.FIELD_LIMITS.items():
            value = getattr(event, field, None)
            if value is not None:
                self.assertIsInstance(value, str)
                self.assertLessEqual(len(value), limit)
                self.assertTrue(value.isprintable(), field)
        for value in (event.name, event.message_id):
            if value is not None:
                value.encode('utf-8')
                self.assertNotIn('\x00', value)
        for value in (event.vcpus, event.memory_mb, event.disk_gb):
            if value is not None:
                self.assertIsInstance(value, int)
                self.assertTrue(0 <= value <= fields.MAX_INT)
        for value in (event.occurred_at, event.launched_at):
            if value is not None:
                self.assertTrue(fields.EARLIEST <= value < fields.LATEST)
                self.assertEqual(datetime.timezone.utc, value.tzinfo)
        self.assertIn(event.kind, set(events.EVENT_KINDS.values()) |
                      set(events.STATE_KINDS.values()) | {None})

    def parse(self, func, *args):
        """``func(*args)``: a refusal or a result, in bounded memory."""
        return fuzzing.assert_bounded(
            self, func, *args, documented=events.MalformedNotification)

    @SETTINGS
    @hypothesis.given(nova_messages())
    def test_nova_notifications(self, message):
        event = self.parse(events.parse_notification,
                           message.get('event_type'),
                           message.get('payload'), message.get('metadata'))
        if isinstance(event, events.MalformedNotification):
            exc = event
            _check_refusal(self, exc)
            rejected = listener._rejection(message, exc)
            _check_stored_text(self, usage_writer.ascii_text(
                rejected[2], usage_writer.REASON_LIMIT),
                usage_writer.REASON_LIMIT)
            _check_stored_text(self, usage_writer.ascii_text(
                rejected[3], usage_writer.PAYLOAD_LIMIT),
                usage_writer.PAYLOAD_LIMIT)
        else:
            self.check_event(event)

    @SETTINGS
    @hypothesis.given(_event_types, _json, _json)
    def test_anything_at_all(self, event_type, payload, metadata):
        event = self.parse(events.parse_notification, event_type, payload,
                           metadata)
        if isinstance(event, events.MalformedNotification):
            _check_refusal(self, event)
        else:
            self.check_event(event)

    @SETTINGS
    @hypothesis.given(mutated(cpu.to_payload('cn1', [
        cpu.CpuSample(UUID, 'cn1', '7', nova.at(1), 30 * 10 ** 9),
        cpu.CpuSample(UUID, 'cn1', '8', nova.at(2), 10 ** 9)])))
    def test_cpu_samples(self, payload):
        samples = self.parse(cpu.from_payload, payload)
        if isinstance(samples, events.MalformedNotification):
            _check_refusal(self, samples)
            return
        for sample in samples:
            self.assertTrue(0 <= sample.cpu_time_ns <= fields.MAX_BIGINT)
            self.assertTrue(fields.EARLIEST <= sample.sampled_at
                            < fields.LATEST)
            for field in ('instance_uuid', 'host', 'run_id'):
                value = getattr(sample, field)
                self.assertLessEqual(len(value), fields.FIELD_LIMITS[field])

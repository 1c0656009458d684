"""Nova's versioned instance notifications, read as usage events.

One notification becomes one :class:`InstanceEvent`: which instance, when,
what state it entered (its *kind*), and the facts a record needs if the
Nova API forgets the instance (project, user, name, image, flavor). What
each event type means is data (:data:`EVENT_KINDS`, :data:`STATE_KINDS`),
so supporting another event is one line::

    event = parse_notification('instance.suspend.end', payload,
                               {'timestamp': '2026-01-01 10:00:00.000001',
                                'message_id': '...'})
    event.kind   # 'suspended'

Nova sends these only with ``[notifications] notification_format`` set to
``versioned`` or ``both``; the payload is a serialised Nova object
(``nova_object.data`` holds the fields).
"""

import dataclasses
import datetime
import typing

from oslo_utils import timeutils

from stratuslab_plugins.accounting import exceptions

UTC = datetime.timezone.utc

#: What an instance is doing during an interval. Only RUNNING counts as
#: wall time; PAUSED, SUSPENDED and SHELVED (powered off but still on its
#: host, holding its resources) count as suspend time; STOPPED and
#: OFFLOADED (shelved and offloaded: nothing left on a host) count as
#: neither; DELETED ends the instance.
RUNNING = 'running'
PAUSED = 'paused'
SUSPENDED = 'suspended'
SHELVED = 'shelved'
STOPPED = 'stopped'
OFFLOADED = 'offloaded'
DELETED = 'deleted'
#: Before the first event the ledger saw (an instance older than the
#: listener): counted as running, as the Nova API would count it.
UNKNOWN = 'unknown'

WALL_KINDS = frozenset((RUNNING, UNKNOWN))
SUSPEND_KINDS = frozenset((PAUSED, SUSPENDED, SHELVED))

#: The Nova ``vm_state`` each kind corresponds to, for the record builder's
#: status mapping.
NOVA_STATE_OF_KIND = {
    RUNNING: 'active',
    UNKNOWN: 'active',
    PAUSED: 'paused',
    SUSPENDED: 'suspended',
    SHELVED: 'shelved',
    STOPPED: 'stopped',
    OFFLOADED: 'shelved_offloaded',
    DELETED: 'deleted',
}

#: The state an instance is in once a transition event has happened.
EVENT_KINDS = {
    'instance.create.end': RUNNING,
    'instance.power_on.end': RUNNING,
    'instance.power_off.end': STOPPED,
    'instance.pause.end': PAUSED,
    'instance.unpause.end': RUNNING,
    'instance.suspend.end': SUSPENDED,
    'instance.resume.end': RUNNING,
    'instance.shelve.end': SHELVED,
    'instance.shelve_offload.end': OFFLOADED,
    'instance.unshelve.end': RUNNING,
    'instance.resize_finish.end': RUNNING,
    'instance.resize_revert.end': RUNNING,
    'instance.rebuild.end': RUNNING,
    'instance.restore.end': RUNNING,
    'instance.soft_delete.end': STOPPED,
    'instance.delete.end': DELETED,
}

#: The periodic audit (``[DEFAULT] instance_usage_audit = True``): no
#: transition, an observation of the current state and facts.
EXISTS = 'instance.exists'

#: Every event type the listener records.
HANDLED_EVENT_TYPES = tuple(EVENT_KINDS) + (EXISTS,)

#: Nova ``vm_state`` values an ``instance.exists`` can report. States that
#: say nothing about consumption (``building``, ``error``) are absent: the
#: observation then keeps the kind already in force.
STATE_KINDS = {
    'active': RUNNING,
    'resized': RUNNING,
    'rescued': RUNNING,
    'paused': PAUSED,
    'suspended': SUSPENDED,
    'shelved': SHELVED,
    'shelved_offloaded': OFFLOADED,
    'stopped': STOPPED,
    'soft-delete': STOPPED,
    'deleted': DELETED,
}


#: Longest value the usage ledger keeps for each text field (its column
#: sizes). Identifiers longer than this are malformed: their notification
#: is rejected with the reason, one warning, instead of failing the batch
#: on a database that enforces column sizes (PostgreSQL, MySQL; SQLite does
#: not). Fields shown to people only are cut to fit instead.
FIELD_LIMITS = {
    'instance_uuid': 36, 'event_type': 64, 'project_id': 64, 'user_id': 64,
    'image_id': 36, 'host': 255, 'flavor_id': 255, 'run_id': 64,
}
#: Fields shown to people only, cut to their column size.
DISPLAY_LIMITS = {'message_id': 64, 'name': 255}


def fit_display(field, value):
    """Cut a display-only ``value`` to the size the ledger keeps."""
    if value is None:
        return None
    value = str(value)
    return value[:DISPLAY_LIMITS[field]]


class MalformedNotification(exceptions.AccountingError):
    """A notification the listener cannot read; it is logged and dropped."""


@dataclasses.dataclass(frozen=True)
class InstanceEvent:
    """One instance notification, in the terms of usage.

    :param occurred_at: when the instance entered ``kind`` (aware UTC):
        ``launched_at`` for a create, the notification's own timestamp
        otherwise (``terminated_at`` for a delete without one).
    :param kind: the kind the instance is in from ``occurred_at`` on, or
        None when the event changes nothing (an ``instance.exists`` in an
        uninformative state).
    :param message_id: the oslo.messaging message id, for the operator.
    """

    instance_uuid: str
    event_type: str
    occurred_at: datetime.datetime
    kind: typing.Optional[str]
    message_id: typing.Optional[str] = None
    project_id: typing.Optional[str] = None
    user_id: typing.Optional[str] = None
    name: typing.Optional[str] = None
    image_id: typing.Optional[str] = None
    host: typing.Optional[str] = None
    flavor_id: typing.Optional[str] = None
    vcpus: typing.Optional[int] = None
    memory_mb: typing.Optional[int] = None
    disk_gb: typing.Optional[int] = None
    launched_at: typing.Optional[datetime.datetime] = None

    @property
    def key(self):
        """What makes a redelivered notification the same event."""
        return (self.instance_uuid, self.event_type, self.occurred_at)


def _parse_iso(text):
    # Python's own parser reads both of Nova's forms, several times faster
    # than iso8601's (it matters at thousands of events a second); the
    # latter still reads what it does not.
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return timeutils.parse_isotime(text)


def parse_time(value, what):
    """Return ``value`` (ISO 8601 string or datetime) as aware UTC.

    Nova writes envelope timestamps as ``2026-01-01 10:00:00.000001``
    (naive, UTC) and payload times as ``2026-01-01T10:00:00Z``.
    """
    if value in (None, ''):
        return None
    try:
        if not isinstance(value, datetime.datetime):
            value = _parse_iso(str(value))
    except ValueError as exc:
        raise MalformedNotification(
            '%s is %r, not an ISO 8601 time (%s)' % (what, value, exc))
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def is_versioned(payload):
    """Tell a versioned payload (a Nova object) from a legacy one."""
    return isinstance(payload, dict) and 'nova_object.data' in payload


def _fields(payload, what):
    if not is_versioned(payload):
        raise MalformedNotification(
            '%s: the payload is not a versioned Nova object (no '
            'nova_object.data); is the publisher Nova with '
            'notification_format = versioned?' % what)
    return payload['nova_object.data']


def _flavor(data):
    flavor = data.get('flavor')
    if isinstance(flavor, dict):
        flavor = flavor.get('nova_object.data', flavor)
    return flavor if isinstance(flavor, dict) else {}


def _int(value, what):
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise MalformedNotification('%s is %r, not an integer'
                                    % (what, value))


def _kind(event_type, data):
    if event_type == EXISTS:
        return STATE_KINDS.get(data.get('state'))
    return EVENT_KINDS[event_type]


def _occurred_at(event_type, data, metadata, what):
    sent_at = parse_time((metadata or {}).get('timestamp'),
                         '%s timestamp' % what)
    # A create starts at launch, which the payload knows better than the
    # envelope. Payload times are whole seconds (Nova serialises them so),
    # so every later event keeps its microsecond envelope time: a delete
    # at its truncated terminated_at could sort before the events of its
    # last second.
    if event_type == 'instance.create.end':
        when = parse_time(data.get('launched_at'),
                          '%s launched_at' % what) or sent_at
    elif EVENT_KINDS.get(event_type) == DELETED:
        when = sent_at or parse_time(data.get('terminated_at'),
                                     '%s terminated_at' % what)
    else:
        when = sent_at
    if when is None:
        raise MalformedNotification(
            '%s has no timestamp: the listener cannot place it in time'
            % what)
    return when


def check_identifiers(what, values):
    """Return ``values`` as strings, checked against FIELD_LIMITS."""
    checked = {}
    for field, value in values.items():
        if value is None:
            checked[field] = None
            continue
        value = str(value)
        if len(value) > FIELD_LIMITS[field]:
            raise MalformedNotification(
                '%s: %s is %d characters long, more than the %d the usage '
                'ledger keeps (%r...)' % (what, field, len(value),
                                          FIELD_LIMITS[field], value[:40]))
        checked[field] = value
    return checked


def parse_notification(event_type, payload, metadata=None):
    """Return the :class:`InstanceEvent` of one versioned notification.

    :param event_type: e.g. ``instance.suspend.end``; one of
        :data:`HANDLED_EVENT_TYPES`.
    :param payload: the notification payload (a serialised Nova object).
    :param metadata: the listener's metadata (``timestamp``,
        ``message_id``).
    :raises MalformedNotification: naming the event and what is wrong.
    """
    metadata = metadata or {}
    what = 'notification %s (message %s)' % (
        event_type, metadata.get('message_id') or 'without id')
    if event_type not in HANDLED_EVENT_TYPES:
        raise MalformedNotification(
            '%s: not an event type the usage ledger records (%s)'
            % (what, ', '.join(HANDLED_EVENT_TYPES)))
    data = _fields(payload, what)
    uuid = data.get('uuid')
    if not uuid:
        raise MalformedNotification('%s: the payload names no instance '
                                    '(no uuid)' % what)
    flavor = _flavor(data)
    root, ephemeral = flavor.get('root_gb'), flavor.get('ephemeral_gb')
    disk = None
    if root is not None or ephemeral is not None:
        disk = (_int(root, '%s flavor root_gb' % what) or 0) + (
            _int(ephemeral, '%s flavor ephemeral_gb' % what) or 0)
    identifiers = check_identifiers(what, {
        'instance_uuid': uuid, 'event_type': event_type,
        'project_id': data.get('tenant_id'), 'user_id': data.get('user_id'),
        'image_id': data.get('image_uuid') or None,
        'host': data.get('host'), 'flavor_id': flavor.get('flavorid')})
    return InstanceEvent(
        occurred_at=_occurred_at(event_type, data, metadata, what),
        kind=_kind(event_type, data),
        message_id=fit_display('message_id', metadata.get('message_id')),
        name=fit_display('name', data.get('display_name')),
        vcpus=_int(flavor.get('vcpus'), '%s flavor vcpus' % what),
        memory_mb=_int(flavor.get('memory_mb'), '%s flavor memory_mb'
                       % what),
        disk_gb=disk,
        launched_at=parse_time(data.get('launched_at'),
                               '%s launched_at' % what),
        **identifiers)

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

from stratuslab_plugins.accounting.usage import fields

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


#: Re-exported: the listener's callers catch it from here.
MalformedNotification = fields.MalformedNotification


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


def is_versioned(payload):
    """Tell a versioned payload (a Nova object) from a legacy one."""
    return isinstance(payload, dict) and 'nova_object.data' in payload


def _fields(payload, what):
    if not is_versioned(payload):
        raise MalformedNotification(
            '%s: the payload is not a versioned Nova object (no '
            'nova_object.data); is the publisher Nova with '
            'notification_format = versioned?' % what)
    data = payload['nova_object.data']
    if not isinstance(data, dict):
        raise MalformedNotification('%s: nova_object.data is %s, not an '
                                    'object' % (what, fields.shown(data)))
    return data


def _flavor(data, what):
    flavor = data.get('flavor')
    if isinstance(flavor, dict):
        flavor = flavor.get('nova_object.data', flavor)
    if flavor is None:
        return {}
    if not isinstance(flavor, dict):
        raise MalformedNotification('%s: flavor is %s, not a Nova '
                                    'FlavorPayload' % (what,
                                                       fields.shown(flavor)))
    return flavor


def _kind(event_type, data, what):
    if event_type == EXISTS:
        return STATE_KINDS.get(fields.text(data.get('state'), 'state', what))
    return EVENT_KINDS[event_type]


def _occurred_at(event_type, data, metadata, launched_at, what):
    sent_at = fields.parse_time(metadata.get('timestamp'), 'timestamp', what)
    # A create starts at launch, which the payload knows better than the
    # envelope. Payload times are whole seconds (Nova serialises them so),
    # so every later event keeps its microsecond envelope time: a delete
    # at its truncated terminated_at could sort before the events of its
    # last second.
    if event_type == 'instance.create.end':
        when = launched_at or sent_at
    elif EVENT_KINDS.get(event_type) == DELETED:
        when = sent_at or fields.parse_time(data.get('terminated_at'),
                                            'terminated_at', what)
    else:
        when = sent_at
    if when is None:
        raise MalformedNotification(
            '%s has no timestamp: the listener cannot place it in time'
            % what)
    return when


def _sizes(flavor, what):
    """Return ``(vcpus, memory_mb, disk_gb)`` of a FlavorPayload's data."""
    vcpus = fields.integer(flavor.get('vcpus'), 'flavor vcpus', what)
    memory = fields.integer(flavor.get('memory_mb'), 'flavor memory_mb',
                            what)
    root = fields.integer(flavor.get('root_gb'), 'flavor root_gb', what)
    ephemeral = fields.integer(flavor.get('ephemeral_gb'),
                               'flavor ephemeral_gb', what)
    if root is None and ephemeral is None:
        return vcpus, memory, None
    # Each is at most MAX_INT in Nova; their sum must fit the ledger too.
    disk = fields.integer((root or 0) + (ephemeral or 0),
                          'flavor root_gb + ephemeral_gb', what)
    return vcpus, memory, disk


def _describe(event_type, metadata):
    message_id = metadata.get('message_id') or 'without id'
    return 'notification %s (message %s)' % (
        event_type[:64] if isinstance(event_type, str)
        else fields.shown(event_type),
        message_id[:64] if isinstance(message_id, str)
        else fields.shown(message_id))


def parse_notification(event_type, payload, metadata=None):
    """Return the :class:`InstanceEvent` of one versioned notification.

    Every value is checked (type, size, range) by :mod:`.fields` first.

    :param event_type: e.g. ``instance.suspend.end``; one of
        :data:`HANDLED_EVENT_TYPES`.
    :param payload: the notification payload (a serialised Nova object).
    :param metadata: the listener's metadata (``timestamp``,
        ``message_id``).
    :raises MalformedNotification: naming the event and what is wrong;
        no other exception, whatever the arguments hold.
    """
    if not isinstance(metadata, dict):
        metadata = {}
    what = _describe(event_type, metadata)
    if not isinstance(event_type, str) or \
            event_type not in HANDLED_EVENT_TYPES:
        raise MalformedNotification(
            '%s: not an event type the usage ledger records (%s)'
            % (what, ', '.join(HANDLED_EVENT_TYPES)))
    data = _fields(payload, what)
    if not data.get('uuid'):
        raise MalformedNotification('%s: the payload names no instance '
                                    '(no uuid)' % what)
    flavor = _flavor(data, what)
    vcpus, memory_mb, disk_gb = _sizes(flavor, what)
    identifiers = fields.check_identifiers(what, {
        'instance_uuid': data['uuid'], 'event_type': event_type,
        'project_id': data.get('tenant_id'), 'user_id': data.get('user_id'),
        'image_id': data.get('image_uuid') or None,
        'host': data.get('host'), 'flavor_id': flavor.get('flavorid')})
    launched_at = fields.parse_time(data.get('launched_at'), 'launched_at',
                                    what)
    return InstanceEvent(
        occurred_at=_occurred_at(event_type, data, metadata, launched_at,
                                 what),
        kind=_kind(event_type, data, what),
        message_id=fields.fit_display('message_id',
                                      metadata.get('message_id')),
        name=fields.fit_display('name', fields.text(
            data.get('display_name'), 'display_name', what)),
        vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb,
        launched_at=launched_at, **identifiers)

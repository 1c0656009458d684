"""Nova-shaped versioned notifications, for tests and the benchmark.

The spelling is Nova 34's (``nova/notifications/objects/instance.py``),
every field of it: the payload is a serialised ``InstanceActionPayload``
(``InstanceCreatePayload`` for a create, ``InstanceExistsPayload`` for the
audit...) whose ``flavor`` is a serialised ``FlavorPayload``;
``test_nova_payloads`` checks them against Nova's own classes. The
functional tests check the listener against payloads Nova itself emits;
these stand in where no Nova runs.
"""

import datetime

UTC = datetime.timezone.utc

#: A fixed origin, so tests read as "minute 10", "minute 20".
T0 = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes):
    """Return the time ``minutes`` after :data:`T0`."""
    return T0 + datetime.timedelta(minutes=minutes)


def nova_time(value):
    """Format a payload time the way Nova serialises a DateTimeField."""
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value else None


def envelope_time(value):
    """Format an envelope timestamp as oslo.messaging's notifier does."""
    return value.replace(tzinfo=None).isoformat(' ')


def flavor_payload(vcpus=2, memory_mb=4096, root_gb=20, ephemeral_gb=0,
                   flavorid='m1.medium'):
    return nova_object('FlavorPayload', '1.4', {
        'flavorid': flavorid, 'name': flavorid, 'vcpus': vcpus,
        'memory_mb': memory_mb, 'root_gb': root_gb,
        'ephemeral_gb': ephemeral_gb, 'swap': 0, 'disabled': False,
        'is_public': True, 'extra_specs': {}, 'projects': None,
        'description': None, 'rxtx_factor': 1.0, 'vcpu_weight': 0,
    })


#: The payload class (and its version) Nova 34 sends each event type with
#: (``nova/compute/utils.py``); the other instance events send
#: ``InstanceActionPayload`` 1.9.
PAYLOAD_CLASSES = {
    'instance.create.end': ('InstanceCreatePayload', '1.13'),
    'instance.exists': ('InstanceExistsPayload', '2.1'),
    'instance.rebuild.end': ('InstanceActionRebuildPayload', '1.10'),
}
ACTION_PAYLOAD = ('InstanceActionPayload', '1.9')


def nova_object(name, version, data):
    """Return a Nova object as ``obj_to_primitive()`` serialises it."""
    return {'nova_object.name': name, 'nova_object.namespace': 'nova',
            'nova_object.version': version, 'nova_object.data': data}


def _class_fields(event_type, when):
    """The fields a payload class adds to ``InstancePayload``'s."""
    if event_type == 'instance.exists':
        start = when.replace(minute=0, second=0, microsecond=0)
        return {'audit_period': nova_object('AuditPeriodPayload', '1.0', {
            'audit_period_beginning': nova_time(start),
            'audit_period_ending': nova_time(when)})}
    extra = {'fault': None}
    if event_type == 'instance.create.end':
        extra.update(instance_name='instance-00000001', keypairs=[],
                     tags=[], trusted_image_certificates=None)
    elif event_type == 'instance.rebuild.end':
        extra['trusted_image_certificates'] = None
    return extra


def instance_payload(uuid, state='active', launched_at=None,
                     terminated_at=None, flavor=None, project_id='proj-a',
                     user_id='user-a', name='vm', image='img-1',
                     host='compute1', event_type='instance.suspend.end',
                     when=None):
    """Return the payload Nova 34 sends with ``event_type``, every field."""
    when = when or launched_at or T0
    data = {
        'uuid': uuid, 'tenant_id': project_id, 'user_id': user_id,
        'display_name': name, 'display_description': name,
        'host_name': name, 'image_uuid': image, 'host': host,
        'node': host, 'availability_zone': 'nova',
        'architecture': 'x86_64', 'os_type': None, 'kernel_id': '',
        'ramdisk_id': '', 'key_name': None, 'reservation_id': 'r-1a2b3c4d',
        'state': state, 'power_state': 'running', 'task_state': None,
        'progress': 0, 'locked': False, 'locked_reason': None,
        'auto_disk_config': 'MANUAL', 'metadata': {},
        'created_at': nova_time(launched_at or when),
        'updated_at': nova_time(when),
        'launched_at': nova_time(launched_at),
        'terminated_at': nova_time(terminated_at),
        'deleted_at': nova_time(terminated_at),
        'flavor': flavor or flavor_payload(), 'ip_addresses': [],
        'block_devices': [], 'shares': [],
        'request_id': 'req-5b6c791d-5709-4f36-8fbe-c3e02869e35d',
        'action_initiator_user': user_id,
        'action_initiator_project': project_id,
    }
    data.update(_class_fields(event_type, when))
    name, version = PAYLOAD_CLASSES.get(event_type, ACTION_PAYLOAD)
    return nova_object(name, version, data)


#: The vm_state Nova reports in the payload of each ``.end`` event.
STATE_AFTER = {
    'instance.create.end': 'active',
    'instance.power_off.end': 'stopped',
    'instance.power_on.end': 'active',
    'instance.suspend.end': 'suspended',
    'instance.resume.end': 'active',
    'instance.pause.end': 'paused',
    'instance.unpause.end': 'active',
    'instance.shelve.end': 'shelved',
    'instance.shelve_offload.end': 'shelved_offloaded',
    'instance.unshelve.end': 'active',
    'instance.resize_finish.end': 'resized',
    'instance.delete.end': 'deleted',
}


def notification(event_type, uuid, when, launched_at, state=None,
                 message_id=None, **kwargs):
    """Return ``(event_type, payload, metadata)`` as a listener receives it.

    :param when: the envelope timestamp (aware UTC).
    """
    state = state or STATE_AFTER.get(event_type, 'active')
    terminated = when if event_type == 'instance.delete.end' else None
    payload = instance_payload(uuid, state=state, launched_at=launched_at,
                               terminated_at=terminated,
                               event_type=event_type, when=when, **kwargs)
    metadata = {'timestamp': envelope_time(when),
                'message_id': message_id or '%s-%s-%s' % (
                    uuid, event_type, when.isoformat())}
    return event_type, payload, metadata


def lifecycle(uuid, steps, **kwargs):
    """Return the notifications of an instance going through ``steps``.

    :param steps: ``[(minute, event_type), ...]``; the first should be a
        create, whose minute is the launch time.
    """
    launched = at(steps[0][0])
    return [notification(event_type, uuid, at(minute), launched, **kwargs)
            for minute, event_type in steps]

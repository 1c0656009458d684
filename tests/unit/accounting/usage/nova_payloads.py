"""Nova-shaped versioned notifications, for tests and the benchmark.

The shape is Nova 34's (``nova/notifications/objects/instance.py``): the
payload is a serialised ``InstanceActionPayload`` whose ``flavor`` is a
serialised ``FlavorPayload``. The functional tests check the listener
against payloads Nova itself emits; these stand in where no Nova runs.
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
    return {
        'nova_object.name': 'FlavorPayload',
        'nova_object.namespace': 'nova',
        'nova_object.version': '1.4',
        'nova_object.data': {
            'flavorid': flavorid, 'name': flavorid, 'vcpus': vcpus,
            'memory_mb': memory_mb, 'root_gb': root_gb,
            'ephemeral_gb': ephemeral_gb, 'swap': 0, 'disabled': False,
            'is_public': True, 'extra_specs': {}, 'projects': None,
            'description': None, 'rxtx_factor': 1.0, 'vcpu_weight': 0,
        },
    }


def instance_payload(uuid, state='active', launched_at=None,
                     terminated_at=None, flavor=None, project_id='proj-a',
                     user_id='user-a', name='vm', image='img-1',
                     host='compute1', name_of_payload='InstanceActionPayload'):
    return {
        'nova_object.name': name_of_payload,
        'nova_object.namespace': 'nova',
        'nova_object.version': '1.9',
        'nova_object.data': {
            'uuid': uuid, 'tenant_id': project_id, 'user_id': user_id,
            'display_name': name, 'image_uuid': image, 'host': host,
            'node': host, 'state': state, 'power_state': 'running',
            'task_state': None, 'launched_at': nova_time(launched_at),
            'terminated_at': nova_time(terminated_at),
            'deleted_at': nova_time(terminated_at),
            'flavor': flavor or flavor_payload(), 'metadata': {},
            'locked': False, 'auto_disk_config': 'MANUAL',
            'ip_addresses': [], 'block_devices': [],
        },
    }


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
                               terminated_at=terminated, **kwargs)
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

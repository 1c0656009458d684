"""The test payloads are spelt as Nova's own notification classes say.

Every field of every payload class the listener reads (and of their
flavor and audit-period objects) is checked against the class of the
installed Nova: same names, same version, and each value read back by
the field's own ``from_primitive`` (which refuses a wrong type).
"""

from nova.notifications.objects import flavor as nova_flavor
from nova.notifications.objects import instance as nova_instance
from oslo_versionedobjects import fields as ovo_fields
import testtools

from stratuslab_plugins.accounting.usage import events
from tests.unit.accounting.usage import nova_payloads as nova

UUID = '6f1c8a52-3d0b-4a55-9d4f-2f8e1f0c0001'
CLASSES = {cls.__name__: cls for cls in (
    nova_instance.InstanceActionPayload, nova_instance.InstanceCreatePayload,
    nova_instance.InstanceExistsPayload,
    nova_instance.InstanceActionRebuildPayload,
    nova_instance.AuditPeriodPayload, nova_flavor.FlavorPayload)}


class NovaSpellingTest(testtools.TestCase):

    def check_object(self, primitive, where):
        cls = CLASSES[primitive['nova_object.name']]
        self.assertEqual((cls.VERSION, 'nova'),
                         (primitive['nova_object.version'],
                          primitive['nova_object.namespace']), where)
        data = primitive['nova_object.data']
        self.assertEqual(sorted(cls.fields), sorted(data), where)
        instance = cls.__new__(cls)
        for name, field in cls.fields.items():
            value = data[name]
            if isinstance(field, ovo_fields.ObjectField) and value:
                self.check_object(value, '%s.%s' % (where, name))
            else:
                field.from_primitive(instance, name, value)

    def test_every_handled_event_type_has_nova_34_fields(self):
        for event_type in events.HANDLED_EVENT_TYPES:
            _, payload, _ = nova.notification(event_type, UUID, nova.at(5),
                                              nova.at(0))
            self.check_object(payload, event_type)
            name = nova.PAYLOAD_CLASSES.get(event_type,
                                            nova.ACTION_PAYLOAD)[0]
            self.assertEqual(name, payload['nova_object.name'])

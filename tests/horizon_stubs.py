"""Undo the client-exception stubs Horizon's test data leaves behind.

``openstack_dashboard.test.test_data.utils.load_test_data``, which every
Horizon test case runs in its ``setUp`` (and our browser test too),
replaces ``__init__`` and ``__str__`` of client exception classes for the
whole process, ``openstack.exceptions.SDKException`` and novaclient's
among them, and never puts them back. A later test in the same stestr
worker whose real client raises one of them (openstacksdk's
``InvalidResponse`` on a checksum mismatch) then fails with an
``AttributeError`` instead. Dashboard tests restore them after each test.
"""

from cinderclient import exceptions as cinder_exceptions
import glanceclient.exc as glance_exceptions
from keystoneclient import exceptions as keystone_exceptions
from novaclient import exceptions as nova_exceptions
from openstack import exceptions as sdk_exceptions
from swiftclient import client as swift_client

#: The classes ``openstack_dashboard/test/test_data/exceptions.py`` stubs.
STUBBED_CLASSES = (
    keystone_exceptions.Unauthorized, keystone_exceptions.ClientException,
    nova_exceptions.ClientException, nova_exceptions.Unauthorized,
    glance_exceptions.ClientException, sdk_exceptions.SDKException,
    swift_client.ClientException, cinder_exceptions.BadRequest)
_ATTRIBUTES = ('__init__', '__str__', 'silence_logging')


def restore_after(test):
    """Make ``test``'s cleanup restore the stubbed classes as they are now."""
    saved = [(cls, name, cls.__dict__.get(name))
             for cls in STUBBED_CLASSES for name in _ATTRIBUTES]

    def restore():
        for cls, name, value in saved:
            if value is not None:
                setattr(cls, name, value)
            elif name in cls.__dict__:
                delattr(cls, name)
    test.addCleanup(restore)


class RestoresClientExceptions:
    """Mixin for Horizon test cases: undo the stubs after each test."""

    def setUp(self):
        restore_after(self)
        super().setUp()

"""The mapping of appliance failures to glance_store's exceptions."""

from glance_store import exceptions
import testtools

from stratuslab_plugins.appliance import exceptions as appliance_exceptions
from stratuslab_plugins.image import errors


class GlanceErrorsTest(testtools.TestCase):

    def raised(self, error, writing=False):
        try:
            with errors.glance_errors('do it', writing=writing):
                raise error
        except exceptions.GlanceStoreException as translated:
            return translated
        except exceptions.BackendException as translated:
            return translated
        self.fail('nothing raised')

    def test_mapping(self):
        cases = [
            (appliance_exceptions.RegistryNotFound('gone', status=404),
             False, exceptions.NotFound),
            (appliance_exceptions.RegistryAuthError('no', status=401),
             True, exceptions.StorageWriteDenied),
            (appliance_exceptions.RegistryAuthError('no', status=403),
             False, exceptions.Forbidden),
            (appliance_exceptions.RegistryUnavailable('down'), False,
             exceptions.RemoteServiceUnavailable),
            (appliance_exceptions.RegistryUnavailable('down'), True,
             exceptions.BackendException),
            (appliance_exceptions.RegistryError('big', status=413), True,
             exceptions.StorageFull),
            (appliance_exceptions.RegistryError('odd', status=400), True,
             exceptions.BackendException),
            (appliance_exceptions.NotTrusted('denied'), False,
             exceptions.Forbidden),
            (appliance_exceptions.InvalidInput('bad'), True,
             exceptions.Invalid),
            (appliance_exceptions.IntegrityError('altered'), False,
             exceptions.BackendException),
            (appliance_exceptions.RegistryNotAllowed('not ours'), False,
             exceptions.BadStoreUri),
            # A bug of ours still reaches Glance as a store error.
            (OverflowError('int too large'), False,
             exceptions.BackendException),
        ]
        for error, writing, expected in cases:
            with self.subTest(error=error, writing=writing):
                raised = self.raised(error, writing)
                self.assertIsInstance(raised, expected)
                self.assertIn(str(error), str(raised))

    def test_glance_store_errors_pass_through(self):
        error = exceptions.Duplicate(image='x')
        self.assertIs(error, self.raised(error))

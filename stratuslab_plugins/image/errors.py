"""Appliance failures as the glance_store exceptions Glance understands.

Glance maps only glance_store's exceptions to HTTP answers (404, 403,
413, 503...); anything else becomes a 500 without a word. The appliance
layer (:mod:`stratuslab_plugins.appliance`) knows nothing of Glance and
raises its own hierarchy, so every call the store makes into it runs
inside :func:`glance_errors`, the one place where that mapping is
decided.
"""

import contextlib

from glance_store import exceptions
from oslo_log import log as logging

from stratuslab_plugins.appliance import exceptions as appliance_exceptions

LOG = logging.getLogger(__name__)


@contextlib.contextmanager
def glance_errors(action, writing=False):
    """Raise what Glance understands for a failure of the appliance layer.

    :param action: what the store was doing, for messages without one.
    :param writing: the failure happened while adding an image, where an
        authorization failure means the store may not write.
    """
    try:
        yield
    except exceptions.GlanceStoreException:
        raise
    except appliance_exceptions.RegistryNotFound as error:
        raise exceptions.NotFound(message=str(error)) from error
    except appliance_exceptions.RegistryAuthError as error:
        if writing:
            raise exceptions.StorageWriteDenied(message=str(error)) \
                from error
        raise exceptions.Forbidden(message=str(error)) from error
    except appliance_exceptions.RegistryUnavailable as error:
        if writing:
            raise exceptions.BackendException(str(error)) from error
        raise exceptions.RemoteServiceUnavailable(message=str(error)) \
            from error
    except appliance_exceptions.RegistryError as error:
        if error.status in (413, 507):
            raise exceptions.StorageFull(message=str(error)) from error
        raise exceptions.BackendException(str(error)) from error
    except appliance_exceptions.NotTrusted as error:
        raise exceptions.Forbidden(message=str(error)) from error
    except appliance_exceptions.RegistryNotAllowed as error:
        raise exceptions.BadStoreUri(
            message='Cannot %s: %s' % (action, error)) from error
    except appliance_exceptions.InvalidInput as error:
        raise exceptions.Invalid(message='Cannot %s: %s' % (action, error)) \
            from error
    except appliance_exceptions.ApplianceError as error:
        raise exceptions.BackendException(
            'Cannot %s: %s' % (action, error)) from error
    except Exception as error:
        # Glance knows its store exceptions only; anything else would be
        # an HTTP 500 without a word. Logged whole: it is a bug of ours.
        LOG.exception('Unexpected failure while trying to %s.', action)
        raise exceptions.BackendException(
            'Cannot %s: unexpected %s: %s' % (action, type(error).__name__,
                                              error)) from error

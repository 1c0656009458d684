"""What went wrong calling a service, in words an operator acts on.

A panel whose service call failed must not show the empty text meant
for "nothing there yet" (advice for the wrong problem: "add grid_*
metadata" while Nova is down). :func:`describe` names what happened,
a service out of the Keystone catalog, one that cannot be reached, or
one that answered with an error, and :class:`ExplainedEmpty` makes a
table show that instead of its usual empty text.
"""

from django.utils.translation import gettext_lazy as _
from glanceclient import exc as glance_exceptions
from horizon import exceptions as horizon_exceptions
from keystoneauth1 import exceptions as ks_exceptions
import requests

NOT_IN_CATALOG = (horizon_exceptions.ServiceCatalogException,
                  ks_exceptions.CatalogException)
UNREACHABLE = (ks_exceptions.ConnectionError,
               glance_exceptions.CommunicationError,
               glance_exceptions.InvalidEndpoint,
               requests.ConnectionError, requests.Timeout)


def _chain(exc):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def describe(service, exc):
    """Return a sentence saying what happened calling ``service``.

    :param service: its name as operators know it ("Nova", "Glance").
    """
    for cause in _chain(exc):
        if isinstance(cause, NOT_IN_CATALOG):
            return _('%(service)s is not in the Keystone catalog of this '
                     'region (%(error)s): register its endpoint, or check '
                     'the region Horizon uses.') % {
                'service': service, 'error': cause}
        if isinstance(cause, UNREACHABLE):
            return _('%(service)s cannot be reached (%(error)s): is it '
                     'running, and its catalog endpoint right?') % {
                'service': service, 'error': cause}
    return _('%(service)s answered with an error: %(error)s') % {
        'service': service, 'error': exc}


class ExplainedEmpty:
    """Table mixin: show ``empty_reason`` when set, not the usual text."""

    empty_reason = None

    def get_empty_message(self):
        return self.empty_reason or super().get_empty_message()

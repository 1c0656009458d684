"""Every service call the panels make, in one module: the seam tests mock.

Glance, Nova and Keystone through Horizon's own ``openstack_dashboard.api``
(so Horizon's session, TLS and endpoint settings apply); the usage API
through :class:`~stratuslab_plugins.accounting.api.client.UsageClient`
with the signed-in user's token, so the API's policy decides what the
user sees, not the dashboard.
"""

from django.conf import settings as django_settings
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from openstack_dashboard import api as os_api
from openstack_dashboard.api import base as api_base

from stratuslab_plugins.accounting.api import client as usage_client_mod
from stratuslab_plugins.dashboard import settings


def sync_images(request):
    """Return the images the appliance sync manages that the user sees.

    Glance already limits the list to the images the project may use,
    which is how the sync shares an appliance with a VO's projects.
    """
    images, _more, _prev = os_api.glance.image_list_detailed(
        request, filters={'tag': [settings.get('STRATUSLAB_APPLIANCE_TAG')]})
    return images


def retired_images(request):
    """Return the images the sync manages that are hidden (retired).

    Glance leaves hidden images out of a list unless ``os_hidden`` is
    asked for; an admin's list holds every project's.
    """
    images, _more, _prev = os_api.glance.image_list_detailed(
        request, filters={'tag': [settings.get('STRATUSLAB_APPLIANCE_TAG')],
                          'os_hidden': True})
    return images


def project_vo(request):
    """Return the VO of the user's current project, or None."""
    project = os_api.keystone.tenant_get(request, request.user.project_id,
                                         admin=False)
    # Read from the fetched attributes: getattr() of a missing one makes
    # keystoneclient fetch the project again, and then fail.
    return project.to_dict().get(
        settings.get('STRATUSLAB_VO_PROJECT_PROPERTY'))


def aggregates(request):
    """Return Nova's host aggregates with their hosts and metadata."""
    return os_api.nova.aggregate_details_list(request)


def compute_hosts(request):
    """Return the names of Nova's compute hosts (its nova-compute services).

    Aggregates name only the hosts they hold; a host in none takes every
    request, and the Hosts panel lists it too.
    """
    return sorted({service.host for service in os_api.nova.service_list(
        request, binary='nova-compute')})


def _usage_endpoint(request):
    explicit = settings.get('STRATUSLAB_ACCOUNTING_API_URL')
    if explicit:
        return explicit
    try:
        return api_base.url_for(request, usage_client_mod.SERVICE_TYPE)
    except Exception:
        # Horizon raises ServiceCatalogException, or KeyError on some
        # catalogs; either way there is nothing to call.
        raise usage_client_mod.APIError(
            'no usage API is configured: set STRATUSLAB_ACCOUNTING_API_URL '
            'in Horizon\'s local_settings.py, or register the '
            'stratuslab-accounting-api endpoint in Keystone as service '
            'type "%s"' % usage_client_mod.SERVICE_TYPE)


def usage_client(request):
    """Return a :class:`UsageClient` acting with the user's token."""
    endpoint = _usage_endpoint(request)
    verify = (False if getattr(django_settings, 'OPENSTACK_SSL_NO_VERIFY',
                               False)
              else getattr(django_settings, 'OPENSTACK_SSL_CACERT', None)
              or True)
    session = ks_session.Session(
        auth=token_endpoint.Token(endpoint, request.user.token.id),
        verify=verify)
    return usage_client_mod.UsageClient(session, endpoint=endpoint)

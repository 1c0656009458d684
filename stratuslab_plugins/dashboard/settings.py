"""The ``local_settings.py`` names the panels read, with their defaults.

``STRATUSLAB_ACCOUNTING_API_URL``
    the usage API's base URL; unset: the Keystone catalog's ``accounting``
    service.
``STRATUSLAB_ACCOUNTING_POLICY_FILE``
    the usage API's policy file (its ``[oslo_policy] policy_file``), when
    the site overrides its rules: the panels then follow the same rules
    in deciding whom to show VO usage and the queue; unset: the API's
    default rules.
``STRATUSLAB_VO_PROJECT_PROPERTY``
    the Keystone project property naming a project's VO (``[grid]
    vo_project_property`` of the services), default ``egi.VO``.
``STRATUSLAB_APPLIANCE_TAG``
    the Glance tag the appliance sync puts on the images it manages
    (the subscriptions' ``tag``), default ``stratuslab-sync``.
``STRATUSLAB_DOWNTIME_FILE``
    nova-scheduler's ``[grid_scheduler] downtime_file``, for the Hosts
    panel to show the downtimes the scheduler reads in it; unset: the
    aggregates' downtimes only.
``STRATUSLAB_DOWNTIME_SITE_ENDPOINTS``
    its ``downtime_site_endpoints``, a list (their downtimes apply to
    every host).
``STRATUSLAB_PARTITION_STATUS_FILE``
    its ``partition_status_file``, for the Hosts panel to show which
    hosts the batch system holds now; unset: the aggregates' partitions.
"""

from django.conf import settings

from stratuslab_plugins.dashboard import image_properties

DEFAULTS = {
    'STRATUSLAB_ACCOUNTING_API_URL': None,
    'STRATUSLAB_ACCOUNTING_POLICY_FILE': None,
    'STRATUSLAB_VO_PROJECT_PROPERTY': 'egi.VO',
    'STRATUSLAB_APPLIANCE_TAG': image_properties.DEFAULT_TAG,
    'STRATUSLAB_DOWNTIME_FILE': None,
    'STRATUSLAB_DOWNTIME_SITE_ENDPOINTS': (),
    'STRATUSLAB_PARTITION_STATUS_FILE': None,
}


def get(name):
    """Return the site's value of ``name``, or its default."""
    return getattr(settings, name, DEFAULTS[name])

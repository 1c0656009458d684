"""Django settings for the dashboard tests (unit and browser).

Horizon's own test settings with our ``enabled`` files applied after
openstack_dashboard's, as a site's ``local/enabled`` directory would be.
:func:`setup` does what ``manage.py test`` would before Horizon's test
helpers can run under stestr.
"""

import os

from openstack_dashboard import enabled as os_enabled
from openstack_dashboard.test.settings import *  # noqa: F403,H303
from openstack_dashboard.utils import settings as settings_utils

from stratuslab_plugins.dashboard import enabled as stratuslab_enabled

# Horizon's test settings already applied openstack_dashboard's enabled
# files; undo what that added and apply both sets once, in order.
_PLUGIN_APPS = HORIZON_CONFIG.pop('plugins', [])  # noqa: F405
HORIZON_CONFIG.pop('dashboards', None)  # noqa: F405
HORIZON_CONFIG.pop('default_dashboard', None)  # noqa: F405
INSTALLED_APPS = [app for app in INSTALLED_APPS  # noqa: F405
                  if app not in _PLUGIN_APPS]
for _key in ('angular_modules', 'js_files', 'js_spec_files', 'scss_files',
             'xstatic_modules'):
    HORIZON_CONFIG[_key] = []  # noqa: F405
settings_utils.update_dashboards([os_enabled, stratuslab_enabled],
                                 HORIZON_CONFIG,  # noqa: F405
                                 INSTALLED_APPS)

STRATUSLAB_ACCOUNTING_API_URL = 'http://127.0.0.1:8779'


_READY = []


def setup():
    """Configure Django with these settings and make the test database.

    Runs once per process, whichever test package asks first.
    """
    if _READY:
        return
    _READY.append(True)
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', __name__)
    import django
    from django.test import utils as django_test_utils

    django.setup()
    django_test_utils.setup_test_environment()
    django_test_utils.setup_databases(verbosity=0, interactive=False)

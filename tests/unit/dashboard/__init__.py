"""Dashboard tests: Horizon's test helpers, Django set up once here.

stestr imports test modules outside Django's test runner, so this
package does what ``manage.py test`` would: settings, ``django.setup()``,
the test environment and the (in-memory) test database.
"""

import os

os.environ.setdefault('DJANGO_SETTINGS_MODULE',
                      'tests.unit.dashboard.settings')

import django  # noqa: E402
from django.test import utils as django_test_utils  # noqa: E402

django.setup()
django_test_utils.setup_test_environment()
django_test_utils.setup_databases(verbosity=0, interactive=False)

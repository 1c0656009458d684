"""Dashboard tests: Horizon's test helpers, Django set up once here.

stestr imports test modules outside Django's test runner, so this
package does what ``manage.py test`` would (see
:mod:`tests.dashboard_settings`).
"""

from tests import dashboard_settings

dashboard_settings.setup()

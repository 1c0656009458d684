"""Dashboard in a real browser: Django's test server and headless Chromium.

Django is configured here, before any test module imports Horizon (see
:mod:`tests.dashboard_settings`).
"""

from tests import dashboard_settings

dashboard_settings.setup()

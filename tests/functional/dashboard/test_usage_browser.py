"""Admin > Grid > Usage in Debian's Chromium, headless.

Starts Django's live test server (``StaticLiveServerTestCase``) with the
plugin enabled and the usage API mocked at its client, then runs the
``chromium`` binary twice on the page: once for a screenshot (kept as a
test artifact, see ``ARTIFACT_DIR``), once to dump the DOM *after* the
browser parsed it, in which the chart must have one series per VO. The
machine has no Internet: Chromium runs with every background network
feature off and a fresh profile.
"""

import os
import re
import shutil
import subprocess
import tempfile
from unittest import mock

from compressor import conf as compressor_conf
from django.conf import settings
from django.contrib.staticfiles import testing as static_testing
from django.test import utils as django_test_utils
from openstack_auth import user as auth_user
from openstack_auth import utils as auth_utils
from openstack_dashboard.test import helpers as horizon_helpers
from openstack_dashboard.test.test_data import utils as test_data_utils

from stratuslab_plugins.accounting.api import client as usage_client
from tests import horizon_stubs

USAGE = {
    'since': '2026-11-01T00:00:00+00:00',
    'until': '2026-11-04T00:00:00+00:00',
    'step': 'day', 'by': 'vo', 'vo_map_size': 3,
    'series': [
        {'key': vo, 'points': [
            {'start': '2026-11-%02dT00:00:00+00:00' % day,
             'end': '2026-11-%02dT00:00:00+00:00' % (day + 1),
             'wall_hours': hours * day, 'cpu_hours': hours * day / 2}
            for day in (1, 2, 3)]}
        for vo, hours in (('atlas', 10), ('cms', 7), ('lhcb', 3))],
}
QUEUE = {'path': '/var/spool/apel/outgoing/openstack', 'exists': True,
         'messages': 2, 'oldest': None, 'reported_until': None, 'runs': []}

#: Where the screenshot goes: $STRATUSLAB_TEST_ARTIFACTS, else
#: .tox/artifacts/ under the source tree.
ARTIFACT_DIR = os.environ.get(
    'STRATUSLAB_TEST_ARTIFACTS',
    os.path.join(os.path.dirname(__file__), '..', '..', '..', '.tox',
                 'artifacts'))

CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu',
                  '--disable-quic', '--no-first-run',
                  '--disable-background-networking',
                  '--disable-component-update', '--disable-sync',
                  '--window-size=1280,2000')


def live_server_settings(**overrides):
    """Settings for Django's live server, with ``overrides``.

    The test server serves static files through the finders only: let
    them find django-compressor's bundles (Horizon's compiled SCSS, under
    COMPRESS_ROOT/CACHE) too.
    """
    bundles = os.path.join(compressor_conf.settings.COMPRESS_ROOT, 'CACHE')
    os.makedirs(bundles, exist_ok=True)
    return django_test_utils.override_settings(
        STATICFILES_DIRS=list(settings.STATICFILES_DIRS) + [
            ('CACHE', bundles)], **overrides)


#: Debian's chromium-driver (bindep.txt). Selenium is given this path: with
#: a driver path it skips Selenium Manager, which would otherwise look for
#: (and download) a driver and a browser over the network.
CHROMEDRIVER = '/usr/bin/chromedriver'


def chromium():
    return shutil.which('chromium') or shutil.which('chromium-browser')


def chromedriver():
    """Debian's chromedriver, else one on PATH (another distribution's)."""
    if os.access(CHROMEDRIVER, os.X_OK):
        return CHROMEDRIVER
    return shutil.which('chromedriver')


class UsagePanelInChromiumTest(static_testing.StaticLiveServerTestCase):

    host = '127.0.0.1'

    @classmethod
    def setUpClass(cls):
        cls.settings = live_server_settings(
            STRATUSLAB_ACCOUNTING_API_URL='http://127.0.0.1:9/not-called')
        cls.settings.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.settings.disable()

    def setUp(self):
        super().setUp()
        if not chromium():
            self.fail('chromium is not installed: apt-get install chromium '
                      '(bindep.txt lists it)')
        horizon_stubs.restore_after(self)
        test_data_utils.load_test_data(self)
        # Horizon's own way of signing a user in for browser tests
        # (openstack_dashboard.test.helpers.SeleniumAdminTestCase).
        admin = auth_user.User(
            id=self.user.id, token=self.token, user=self.user.name,
            tenant_id=self.tenant.id, service_catalog=self.service_catalog,
            roles=[self.roles.admin._info], enabled=True,
            authorized_tenants=self.tenants.list(),
            endpoint=settings.OPENSTACK_KEYSTONE_URL)
        patcher = mock.patch.object(auth_utils, 'get_user',
                                    return_value=admin)
        patcher.start()
        self.addCleanup(patcher.stop)
        # Horizon's test-wide mocks of the other panels' can_access checks
        # (settings.TEST_GLOBAL_MOCKS_ON_PANELS), which would otherwise
        # call the test data's (non-loopback) endpoints.
        for patcher in horizon_helpers._apply_panel_mocks().values():
            self.addCleanup(patcher.stop)
        for method, value in (('usage', USAGE), ('queue', QUEUE)):
            patcher = mock.patch.object(usage_client.UsageClient, method,
                                        return_value=value)
            patcher.start()
            self.addCleanup(patcher.stop)
        self.profile = tempfile.mkdtemp(prefix='chromium-profile-')
        self.addCleanup(shutil.rmtree, self.profile, True)

    def run_chromium(self, *args):
        return subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, '--user-data-dir=' + self.profile,
             *args], capture_output=True, timeout=120, check=True,
            stdin=subprocess.DEVNULL)

    def test_chart_has_one_series_per_vo(self):
        url = self.live_server_url + '/admin/grid_usage/?since=2026-11-01'
        os.makedirs(ARTIFACT_DIR, exist_ok=True)
        screenshot = os.path.abspath(
            os.path.join(ARTIFACT_DIR, 'grid-usage-panel.png'))
        if os.path.exists(screenshot):
            os.unlink(screenshot)

        self.run_chromium('--screenshot=' + screenshot, url)
        dom = self.run_chromium('--dump-dom', url).stdout.decode()

        self.assertGreater(os.path.getsize(screenshot), 10000)
        keys = re.findall(r'<g class="series" data-key="([^"]+)"', dom)
        self.assertEqual(['atlas', 'cms', 'lhcb'], keys)
        self.assertIn('Outgoing APEL queue', dom)

"""The panels with real parts, per role, in headless Chromium.

Starts a real Keystone (the keystone wheel on SQLite, fernet tokens;
:mod:`tests.functional.keystone_fixture`) with an admin, a project member
of atlas and a VO manager of cms; a real glance-api behind
keystonemiddleware (:mod:`tests.functional.glance_fixture`) holding the
appliance sync's images, a retired one among them; the real usage API
process (``stratuslab-accounting-api``'s module, keystonemiddleware in
front, its VO map read from Keystone) over a ledger filled through the
listener's ingestion path (its endpoints, fed Nova-spelled versioned
notifications and agent CPU samples dated over the last two days); and
Horizon's live server with our panels, found through Keystone's catalog.
Each user logs in through Horizon's form in Chromium (Debian's
``chromium`` and ``chromium-driver``, driven by Selenium), and each panel
is checked against values computed here: hours per VO to the time of the
page (not the end of the month asked for), the running day marked
partial, unknown CPU time shown as ``-``, the retired appliance with when
and why, a VO manager's view limited to his VO, a member refused.

One screenshot per panel and role is kept in ``ARTIFACT_DIR``
(``$STRATUSLAB_TEST_ARTIFACTS``, else ``.tox/artifacts/`` under the
source tree, beside ``.stestr``): ``real-<panel>-<user>.png``.
"""

import calendar
from concurrent import futures
import datetime
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from django.contrib.staticfiles import testing as static_testing
import glanceclient
import oslo_messaging
from selenium import webdriver
from selenium.webdriver.chrome import service as chrome_service
from selenium.webdriver.common.by import By

from stratuslab_plugins.accounting.ledger import state as state_mod
from stratuslab_plugins.accounting.ledger import usage as usage_mod
from stratuslab_plugins.accounting.usage import cpu as cpu_mod
from stratuslab_plugins.accounting.usage import listener
from stratuslab_plugins.dashboard import image_properties as props
from stratuslab_plugins.sandbox import glance_api
from tests import capture
from tests.functional.dashboard import test_usage_browser
from tests.functional import glance_fixture
from tests.functional import keystone_fixture
from tests.unit.accounting.usage import nova_payloads as nova

UTC = datetime.timezone.utc
ARTIFACT_DIR = test_usage_browser.ARTIFACT_DIR
PASSWORD = 'secret-of-%s'
HOUR = 3600.0


def _wait_for(predicate, what, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for ' + what)
        time.sleep(0.3)


class Timeline:
    """When the VMs of the test ran, from midnight two days ago (UTC)."""

    def __init__(self, now):
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.day = [today - datetime.timedelta(days=2),
                    today - datetime.timedelta(days=1), today]

    def at(self, day, hour):
        return self.day[day] + datetime.timedelta(hours=hour)


def notification(event_type, uuid, project, when, launched):
    """One message as oslo.messaging's batch listener hands it over."""
    _, payload, metadata = nova.notification(
        event_type, uuid, when, launched, project_id=project,
        user_id='u-' + project[:8], name='vm-' + uuid[:8])
    return {'ctxt': {}, 'publisher_id': 'nova-compute:cn1',
            'event_type': event_type, 'payload': payload,
            'metadata': metadata}


def cpu_message(uuid, when, seconds):
    return {'ctxt': {}, 'publisher_id': 'stratuslab-agent:cn1',
            'event_type': cpu_mod.EVENT_TYPE,
            'payload': cpu_mod.to_payload('cn1', [cpu_mod.CpuSample(
                uuid, 'cn1', '7', when, seconds * 10 ** 9)]),
            'metadata': {'timestamp': nova.envelope_time(when),
                         'message_id': 'cpu-%s-%s' % (uuid, when)}}


class UsageAPIProcess:
    """``stratuslab-accounting-api`` in a child process, on a free port."""

    def __init__(self, work_dir, keystone, ledger_url, queue_path):
        self.work_dir = work_dir
        self.port = self._free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.config = os.path.join(work_dir, 'api.conf')
        service = {'auth_type': 'password', 'auth_url': keystone.auth_url,
                   'username': 'admin',
                   'password': keystone_fixture.ADMIN_PASSWORD,
                   'project_name': 'admin', 'user_domain_id': 'default',
                   'project_domain_id': 'default'}
        sections = {
            'DEFAULT': {'log_file': os.path.join(work_dir, 'api.log'),
                        'debug': 'True'},
            'accounting': {'ledger_connection': ledger_url},
            'accounting_ssm': {'output_path': queue_path},
            'grid': {'vo_project_property': 'egi.VO',
                     'vo_map_refresh_interval': '10'},
            'grid_keystone': service,
            'accounting_api': {'bind_host': '127.0.0.1',
                               'bind_port': str(self.port)},
            'keystone_authtoken': dict(
                service, www_authenticate_uri=keystone.auth_url),
        }
        with open(self.config, 'w') as stream:
            for name, values in sections.items():
                stream.write('[%s]\n' % name)
                stream.writelines('%s = %s\n' % item
                                  for item in values.items())
        self.process = None

    @staticmethod
    def _free_port():
        sock = glance_api.bind_loopback_socket()
        try:
            return sock.getsockname()[1]
        finally:
            sock.close()

    def start(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [
            root, os.environ.get('PYTHONPATH')])))
        with open(os.path.join(self.work_dir, 'api.out'), 'wb') as output:
            self.process = subprocess.Popen(
                [sys.executable, '-m',
                 'stratuslab_plugins.cmd.accounting_api',
                 '--config-file', self.config], env=env, stdout=output,
                stderr=subprocess.STDOUT)

        def answers():
            if self.process.poll() is not None:
                raise AssertionError('the usage API exited: %s'
                                     % self.log_tail())
            try:
                urllib.request.urlopen(self.url + '/v1', timeout=5)
            except urllib.error.HTTPError:
                return True     # 401: up, and asking for a token
            except OSError:
                return False
            return True
        _wait_for(answers, 'the usage API')

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, size=4000):
        return glance_api.files_tail(
            [os.path.join(self.work_dir, name)
             for name in ('api.log', 'api.out')], size)


class PanelsWithRealPartsTest(static_testing.StaticLiveServerTestCase):

    host = '127.0.0.1'

    @classmethod
    def setUpClass(cls):
        cls.work_dir = tempfile.mkdtemp(prefix='panels-real-')
        cls._undo = [lambda: shutil.rmtree(cls.work_dir, True)]
        # The services' start logs (schema migrations...) are shown only
        # if it fails, as a test's own output is.
        with capture.captured('%s.setUpClass' % cls.__name__):
            cls._set_up_class()

    @classmethod
    def _set_up_class(cls):
        try:
            cls._start_services()
            cls.settings = test_usage_browser.live_server_settings(
                OPENSTACK_KEYSTONE_URL=cls.keystone.auth_url,
                AVAILABLE_REGIONS=[],
                OPENSTACK_KEYSTONE_MULTIDOMAIN_SUPPORT=False,
                OPENSTACK_KEYSTONE_DEFAULT_DOMAIN='Default',
                OPENSTACK_KEYSTONE_FEDERATION_MANAGEMENT=False,
                # This cloud has no Neutron: Horizon's RBAC Policies panel
                # would ask it for extensions on every admin page and log
                # an error each time (a site without Neutron sets this).
                OPENSTACK_NEUTRON_NETWORK={'enable_rbac_policy': False},
                # Found in Keystone's catalog, as a site registers it.
                STRATUSLAB_ACCOUNTING_API_URL=None)
            cls.settings.enable()
            cls._undo.append(cls.settings.disable)
            super().setUpClass()
        except BaseException:
            cls._cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls._cleanup()

    @classmethod
    def _cleanup(cls):
        while cls._undo:
            cls._undo.pop()()

    @classmethod
    def _fixture(cls, fixture):
        fixture.setUp()
        cls._undo.append(fixture.cleanUp)
        return fixture

    # -- the site ------------------------------------------------------------

    @classmethod
    def _start_services(cls):
        keystone = cls.keystone = keystone_fixture.KeystoneFixture()
        # glance-api needs only Keystone's address to start: both set up
        # at once (each is tens of seconds of imports and schema).
        with futures.ThreadPoolExecutor(1) as pool:
            started = pool.submit(cls._fixture, keystone)
            glance = cls._start_glance()
            started.result()
        cls._fill_glance(glance)
        cls.projects = {
            'atlas': keystone.create_project('atlas-prod',
                                             **{'egi.VO': 'atlas'}),
            'cms': keystone.create_project('cms-prod', **{'egi.VO': 'cms'}),
            'cms-dev': keystone.create_project('cms-dev',
                                               **{'egi.VO': 'cms'})}
        keystone.create_user('alice', PASSWORD % 'alice',
                             cls.projects['atlas'], ['member'])
        keystone.create_user('carol', PASSWORD % 'carol',
                             cls.projects['cms'], ['member', 'vo_manager'])
        cls._fill_ledger()
        cls.api = UsageAPIProcess(cls.work_dir, keystone, cls.ledger_url,
                                  os.path.join(cls.work_dir, 'outgoing'))
        cls.api.start()
        cls._undo.append(cls.api.stop)
        keystone.add_endpoint('accounting', 'stratuslab-accounting',
                              cls.api.url)
        admin_token = keystone.session(
            'admin', keystone_fixture.ADMIN_PASSWORD, 'admin').get_token()

        def vo_map_loaded():
            request = urllib.request.Request(
                cls.api.url + '/v1/usage', headers={
                    'X-Auth-Token': admin_token})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return b'"vo_map_size": 0' not in response.read()
            except OSError:
                # A busy machine: the first token check can take long.
                return False
        _wait_for(vo_map_loaded, "the usage API's VO map from Keystone")

    @classmethod
    def _start_glance(cls):
        keystone = cls.keystone
        authtoken = {'www_authenticate_uri': keystone.auth_url,
                     'auth_url': keystone.auth_url, 'auth_type': 'password',
                     'username': 'admin',
                     'password': keystone_fixture.ADMIN_PASSWORD,
                     'project_name': 'admin', 'user_domain_id': 'default',
                     'project_domain_id': 'default'}
        return cls._fixture(glance_fixture.GlanceAPIFixture(options={
            'paste_deploy': {'flavor': 'keystone'},
            'keystone_authtoken': authtoken}))

    @classmethod
    def _fill_glance(cls, glance):
        """The appliance sync's images, as it writes them; one retired."""
        keystone = cls.keystone
        keystone.add_endpoint('image', 'glance', glance.url)
        client = glanceclient.Client('2', session=keystone.session(
            'admin', keystone_fixture.ADMIN_PASSWORD, 'admin'),
            endpoint_override=glance.url)
        cls.appliances = {}
        for name, vo, extra in (
                ('Atlas CentOS 9', 'atlas', {}),
                ('CMS Alma 9', 'cms', {}),
                ('Atlas CentOS 8', 'atlas', cls._retired_properties())):
            image = client.images.create(
                name=name, disk_format='raw', container_format='bare',
                visibility='public', tags=['stratuslab-sync'],
                **dict({props.VO: vo, props.APPDB_ID: 'appdb-' + name[-1],
                        props.ENDORSER_DN: '/DC=org/CN=Endorser of ' + vo,
                        props.EXPIRES: '2099-01-01T00:00:00Z'}, **extra))
            client.images.upload(image['id'],
                                 io.BytesIO(b'appliance ' + name.encode()))
            cls.appliances[name] = image['id']
        retired = cls.appliances['Atlas CentOS 8']
        client.images.update(retired, os_hidden=True)
        client.images.deactivate(retired)

    @classmethod
    def _retired_properties(cls):
        cls.retired_at = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
        cls.delete_after = cls.retired_at + datetime.timedelta(hours=72)
        return {props.RETIRED_AT: '2026-11-30T08:00:00Z',
                props.RETIRED_REASON: 'replaced by a newer version of '
                                      'appliance appdb-9',
                props.DELETE_AFTER: '2026-12-03T08:00:00Z'}

    @classmethod
    def _fill_ledger(cls):
        cls.ledger_url = 'sqlite:///' + os.path.join(cls.work_dir,
                                                     'ledger.sqlite')
        ledger = usage_mod.UsageLedger.from_url(cls.ledger_url)
        cls._undo.append(ledger.engine.dispose)
        cls.started = datetime.datetime.now(UTC)
        t = cls.timeline = Timeline(cls.started)
        atlas, cms, cms_dev = (cls.projects[key].id
                               for key in ('atlas', 'cms', 'cms-dev'))
        messages = []
        for uuid, project, start, end in (
                # atlas: 18 h on day 0, 6 h on day 1; CPU measured.
                ('a1' * 16, atlas, t.at(0, 6), t.at(1, 6)),
                # cms: 12 h on day 1, then running today; no agent.
                ('c1' * 16, cms, t.at(1, 12), None),
                # cms-dev: 10 h on day 0; no agent.
                ('c2' * 16, cms_dev, t.at(0, 0), t.at(0, 10))):
            messages.append(notification('instance.create.end', uuid,
                                         project, start, start))
            if end:
                messages.append(notification('instance.delete.end', uuid,
                                             project, end, start))
        handled = oslo_messaging.NotificationResult.HANDLED
        results = [
            listener.InstanceEventEndpoint(ledger).info(messages),
            # a1's agent: 4 CPU hours by 23:00 on day 0, 5 by its end.
            listener.CpuSampleEndpoint(ledger).sample([
                cpu_message('a1' * 16, t.at(0, 23), 4 * 3600),
                cpu_message('a1' * 16, t.at(1, 5), 5 * 3600)])]
        if results != [handled, handled] or ledger.rejected():
            raise AssertionError('the listener did not store the test '
                                 'notifications: %s %s'
                                 % (results, ledger.rejected()))
        state = state_mod.StateLedger.from_url(cls.ledger_url)
        cls._undo.append(state.engine.dispose)
        state.advance([('nova', '', 'SITE')], t.at(1, 0), records=3,
                      messages=1)
        state.record_failure([('nova', '', 'SITE')], t.at(2, 0),
                             'PermissionDenied: Nova refused GET '
                             '/os-aggregates', since=t.at(1, 0))

    # -- the browser ---------------------------------------------------------

    def setUp(self):
        super().setUp()
        driver = test_usage_browser.chromedriver()
        if not driver:
            self.fail('chromedriver is not installed: apt-get install '
                      'chromium-driver (bindep.txt lists it)')
        options = webdriver.ChromeOptions()
        options.binary_location = test_usage_browser.chromium()
        for flag in test_usage_browser.CHROMIUM_FLAGS:
            options.add_argument(flag)
        # The driver's path given: Selenium does not run Selenium Manager
        # (no download; the machine may have no Internet).
        self.browser = webdriver.Chrome(
            options=options, service=chrome_service.Service(driver))
        self.addCleanup(self.browser.quit)
        os.makedirs(ARTIFACT_DIR, exist_ok=True)

    def log_in(self, user, project=None):
        browser = self.browser
        browser.delete_all_cookies()
        browser.get(self.live_server_url + '/auth/login/')
        browser.find_element(By.ID, 'id_username').send_keys(user)
        browser.find_element(By.ID, 'id_password').send_keys(
            keystone_fixture.ADMIN_PASSWORD if user == 'admin'
            else PASSWORD % user)
        browser.find_element(By.ID, 'loginBtn').click()
        _wait_for(lambda: 'sessionid' in {
            c['name'] for c in browser.get_cookies()}
            and '/auth/login' not in browser.current_url,
            'the login of %s' % user, timeout=60)

    def open(self, path, shot):
        self.browser.get(self.live_server_url + path)
        self.browser.save_screenshot(os.path.join(
            ARTIFACT_DIR, 'real-%s.png' % shot))
        return self.browser.page_source

    def rows(self, table, empty=False):
        """``{row id: [cell text, ...]}`` of a Horizon table.

        :param empty: include the row holding the empty text (id None).
        """
        return {row.get_attribute('data-object-id'): [
            cell.text for cell in row.find_elements(By.TAG_NAME, 'td')]
            for row in self.browser.find_elements(
                By.CSS_SELECTOR, 'table#%s tbody tr%s' % (
                    table, '' if empty else '[data-object-id]'))}

    def usage_query(self):
        today = datetime.datetime.now(UTC).date()
        last = calendar.monthrange(today.year, today.month)[1]
        # To the end of the month, as the date picker invites.
        return '?since=%s&until=%s&step=day' % (
            self.timeline.day[0].date(), today.replace(day=last))

    def today_hours(self, before, after):
        """The bounds of today's running hours between two instants."""
        return ((before - self.timeline.day[2]).total_seconds() / HOUR,
                (after - self.timeline.day[2]).total_seconds() / HOUR)

    def assertHours(self, low, high, text):
        value = float(text.split()[0])
        self.assertTrue(low - 0.01 <= value <= high + 0.01,
                        '%s not within [%.2f, %.2f]' % (text, low, high))

    # -- the checks ----------------------------------------------------------

    def usage_page(self, user, path, shot):
        """Log in, open a usage page; return its rows, page and bounds.

        The bounds are today's hours of a VM running since midnight, at
        the instants before and after the page was asked for.
        """
        self.log_in(user)
        before = datetime.datetime.now(UTC)
        page = self.open(path + self.usage_query(), shot)
        after = datetime.datetime.now(UTC)
        return (self.rows('grid_usage'), page) + self.today_hours(before,
                                                                  after)

    def test_admin_sees_every_vo_to_now_and_the_failed_run(self):
        rows, page, low, high = self.usage_page(
            'admin', '/admin/grid_usage/', 'grid-usage-admin')
        self.assertEqual(['atlas', 'cms'], sorted(rows))
        # atlas: 18 + 6 wall hours, 4 + 1 CPU hours, whatever the end
        # of the month asked for.
        self.assertEqual(['atlas', '24.0 so far', '5.0 so far'],
                         rows['atlas'])
        self.assertHours(10 + 12 + low, 10 + 12 + high, rows['cms'][1])
        self.assertIn('so far', rows['cms'][1])
        self.assertEqual('-', rows['cms'][2])
        self.assertIn('stratuslab-usage-partial', page)
        self.assertEqual(2, page.count('circle class="partial"'))
        last_run = self.browser.find_element(
            By.CSS_SELECTOR, 'dd.stratuslab-last-run').text
        self.assertIn('failed', last_run)
        self.assertIn('Nova refused GET /os-aggregates', last_run)

    def test_vo_manager_sees_his_vo_only_and_no_queue(self):
        rows, page, low, high = self.usage_page(
            'carol', '/project/vo_usage/', 'grid-usage-vo-manager')
        self.assertEqual(['cms'], list(rows))
        self.assertHours(22 + low, 22 + high, rows['cms'][1])
        self.assertNotIn('Outgoing APEL queue', page)
        self.assertIn('Grid Usage', self.browser.find_element(
            By.ID, 'sidebar').get_attribute('textContent'))

        self.open('/project/appliances/', 'appliances-vo-manager')
        self.assertEqual({self.appliances['CMS Alma 9']},
                         set(self.rows('appliances')))

    def test_member_sees_his_vos_appliances_and_no_usage_panel(self):
        self.log_in('alice')
        self.open('/project/appliances/', 'appliances-member')
        rows = self.rows('appliances')
        self.assertEqual({self.appliances['Atlas CentOS 9']}, set(rows))
        self.assertNotIn('Retired appliances',
                         self.browser.page_source)
        self.assertNotIn('Grid Usage', self.browser.find_element(
            By.ID, 'sidebar').get_attribute('textContent'))
        self.open('/project/vo_usage/', 'grid-usage-member-refused')
        self.assertEqual([], self.browser.find_elements(
            By.CSS_SELECTOR, 'table#grid_usage'))

    def test_admin_sees_the_retired_appliance_with_when_and_why(self):
        self.log_in('admin')
        self.open('/project/appliances/', 'appliances-admin')
        # The admin project has no VO: the table says so, not "nothing
        # synced yet".
        self.assertEqual({None: ['This project has no VO: no appliance is '
                                 'offered to it.']},
                         self.rows('appliances', empty=True))
        retired = self.rows('retired')
        row = retired[self.appliances['Atlas CentOS 8']]
        self.assertEqual(
            ['Atlas CentOS 8', 'atlas', 'appdb-8', '2026-11-30 08:00 UTC',
             'replaced by a newer version of appliance appdb-9',
             '2026-12-03 08:00 UTC', 'deactivated'], row)
        self.assertEqual(1, len(retired))

"""The appliance sync against a real glance-api and a real registry.

Starts, once for the class, Debian's docker-registry and a glance-api
process configured as Glance comes (tests/functional/sync/base.py says
how). It proves, through Glance's own API: the first sync (properties,
location validated by Glance, members accepted for two projects of the
VO), that a second sync sends no write call, nor one after the list is
re-issued under a new identifier, a new version, an expiry and the grace
period, that a tampered list or a denied endorser change nothing, content
not matching its endorsement (Glance refuses the location), a run
stopped halfway, a registry project source (also behind Harbor's API),
import mode (a copy in the file store), the console script and the
``openstack`` commands.
"""

import datetime
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import time
import types
import urllib.parse

from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import yaml

from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance import repository
from stratuslab_plugins.appliance import subscriptions
from stratuslab_plugins.appliance.sync import plan
from stratuslab_plugins.appliance.sync import runner
from stratuslab_plugins.cmd import appliance_sync
from stratuslab_plugins.osc import plugin as osc_plugin
from stratuslab_plugins.osc import subscription as subscription_cmd
from tests.functional.appliance import harbor_api
from tests.functional.sync import base

KiB = base.KiB
TASK_TIMEOUT = base.TASK_TIMEOUT
PROJECTS = base.PROJECTS


class SyncTest(base.SyncCase):
    """Glance as it comes: ``do_secure_hash`` on, so it hashes locations."""

    # -- tests -------------------------------------------------------------

    def test_first_sync_shares_with_the_vo_and_second_writes_nothing(self):
        data_a, sums_a = self.push()
        data_b, sums_b = self.push(80 * KiB)
        ubuntu = self.appliance('Ubuntu', sums_a,
                                expires=model.now()
                                + datetime.timedelta(days=5))
        alma = self.appliance('Alma', sums_b)
        subscription = self.subscription(
            [{'image_list': self.write_list([ubuntu, alma])}])

        report = self.sync(subscription)
        self.assertSynced(report)
        self.assertEqual(2, len(report.planned))
        images = self.wait_active(subscription)
        self.assertEqual(2, len(images))
        image = images['%s/sha512:%s' % (ubuntu.identifier, ubuntu.sha512)]
        record = self.catalog.image(image.id)
        self.assertEqual('repo', record['stores'])
        self.assertEqual(ubuntu.sha512, record['os_hash_value'])
        self.assertEqual('shared', record['visibility'])
        self.assertEqual(512, record['min_ram'])
        self.assertEqual('ubuntu', record['os_distro'])
        self.assertEqual('22.04', record['os_version'])
        self.assertEqual('x86_64', record['architecture'])
        self.assertEqual(self.endorser.dn, record[plan.ENDORSER])
        self.assertEqual(model.format_time(ubuntu.expires),
                         record[plan.EXPIRES])
        self.assertEqual(ubuntu.stratuslab_id, record[plan.IDENTIFIER])
        self.assertEqual(ubuntu.identifier, record['appdb_id'])
        self.assertIn('"sl:checksum:sha512":"%s"' % ubuntu.sha512,
                      record['APPLIANCE_ATTRIBUTES'])
        self.assertEqual({PROJECTS[0]: 'accepted', PROJECTS[1]: 'accepted'},
                         image.members)
        self.assertEqual(data_a, self.download(image.id))

        report = self.sync(subscription)
        self.assertSynced(report)
        self.assertEqual([], [a.describe() for a in report.planned])
        self.assertEqual([], self.writes)

        # The endorser re-issues the list: new dc:identifier, new dates,
        # same entries. Nothing is written (issue 18).
        self.write_list([ubuntu, alma])
        report = self.sync(subscription)
        self.assertSynced(report)
        self.assertEqual([], [a.describe() for a in report.planned])
        self.assertEqual([], self.writes)

    def test_new_version_expiry_and_grace_period(self):
        _, sums_a = self.push()
        _, sums_b = self.push()
        soon = model.now() + datetime.timedelta(days=2)
        old = self.appliance('Ubuntu', sums_a)
        expiring = self.appliance('Alma', sums_b, expires=soon)
        path = self.write_list([old, expiring])
        subscription = self.subscription([{'image_list': path}],
                                         grace_period=24)
        self.assertSynced(self.sync(subscription))
        before = self.wait_active(subscription)
        old_id = before['%s/sha512:%s' % (old.identifier, old.sha512)].id
        alma_id = before['%s/sha512:%s' % (expiring.identifier,
                                           expiring.sha512)].id

        # Version 2 of Ubuntu: same identifier, new content.
        _, sums_new = self.push()
        new = self.appliance('Ubuntu', sums_new, identifier=old.identifier)
        new.version = '2'
        self.write_list([new, expiring])
        later = model.now() + datetime.timedelta(days=3)
        report = self.sync(subscription, at=later)
        self.assertSynced(report)
        # Each retirement is one PATCH: the plan had the image's
        # properties from the listing, so no image is read again.
        self.assertEqual(2, sum(1 for call in self.writes
                                if call.startswith('PATCH ')))
        self.assertEqual([], [call for call in self.requests if re.match(
            r'GET \S+/v2/images/[0-9a-f-]{36}$', call)])
        images = self.wait_active(subscription)
        self.assertEqual(3, len(images))
        for image_id, why in ((old_id, 'replaced by a newer version'),
                              (alma_id, 'expired')):
            record = self.catalog.image(image_id)
            self.assertEqual('deactivated', record['status'])
            self.assertTrue(record['os_hidden'])
            self.assertIn(why, record[plan.RETIRED_REASON])
            # When the sync will delete it, for the Appliances panel.
            self.assertEqual(model.format_time(
                later + datetime.timedelta(hours=24)),
                record[plan.DELETE_AFTER])
        fresh = images['%s/sha512:%s' % (new.identifier, new.sha512)]
        self.assertEqual('active', fresh.status)
        self.assertEqual('Ubuntu 2', fresh.get('name'))

        # Within the grace period nothing more happens; after it, the
        # retired images go and the new one stays.
        self.assertEqual([], self.sync(subscription, at=later).planned)
        report = self.sync(subscription,
                           at=later + datetime.timedelta(hours=25))
        self.assertSynced(report)
        self.assertEqual([fresh.id], [i.id for i in
                                      self.images(subscription).values()])

    def test_tampered_list_or_denied_endorser_changes_nothing(self):
        _, sums = self.push()
        path = self.write_list([self.appliance('Ubuntu', sums)])
        subscription = self.subscription([{'image_list': path}])
        self.assertSynced(self.sync(subscription))
        before = self.wait_active(subscription)

        with open(path, 'rb') as f:
            document = f.read()
        with open(path, 'wb') as f:
            f.write(document.replace(b'"Ubuntu"', b'"Evil!!"', 1))
        report = self.sync(subscription)
        self.assertIn('failed verification', report.error)
        self.assertEqual([], self.writes)

        self.write_list([])       # a valid, signed, empty list...
        denied = self.subscription([{'image_list': path}], trust_policy={
            'endorsers': {'deny': ['jane@example.org']}})
        report = self.sync(denied)  # ...from a denied endorser
        self.assertIn('denied by the site trust policy', report.error)
        self.assertEqual([], self.writes)
        self.assertEqual({k: v.status for k, v in before.items()},
                         {k: v.status for k, v in
                          self.images(subscription).items()})

    def test_registry_project_source(self):
        repo = repository.ApplianceRepository(self.client)
        project = self.vo.split('.')[0] + '-project'
        endorser = model.Endorser(dn=self.endorser.dn,
                                  ca=self.endorser.issuer_dn,
                                  email='jane@example.org')
        data = os.urandom(50 * KiB)
        wanted = repo.create('%s/ubuntu:22.04' % project, io.BytesIO(data),
                             title='Ubuntu', disk_format='raw',
                             endorser=endorser)
        repo.create('%s/ubuntu:nightly' % project,
                    io.BytesIO(os.urandom(KiB)), title='Nightly',
                    disk_format='raw', endorser=endorser)
        subscription = self.subscription([{
            'registry': self.registry.url, 'project': project,
            'tags': '2*'}], projects=[PROJECTS[0]])
        self.assertSynced(self.sync(subscription))
        images = self.wait_active(subscription)
        self.assertEqual([wanted.identifier],
                         [i.get(plan.APPDB_ID) for i in images.values()])
        image, = images.values()
        self.assertEqual({PROJECTS[0]: 'accepted'}, image.members)
        self.assertIn(':22.04@sha256:', image.get(plan.MPURI))
        self.assertEqual(data, self.download(image.id))

    def test_registry_project_source_on_harbor(self):
        # Harbor lists a project's repositories to its robot accounts
        # through its project API only; the sync finds them there.
        harbor = self.useFixture(harbor_api.HarborAPI(
            self.registry.url, {'robot$sync': 's3cret'}))
        project = self.vo.split('.')[0] + '-harbor'
        wanted = repository.ApplianceRepository(self.client).create(
            '%s/alma:9' % project, io.BytesIO(os.urandom(20 * KiB)),
            title='Alma', disk_format='raw', endorser=model.Endorser(
                dn=self.endorser.dn, ca=self.endorser.issuer_dn,
                email='jane@example.org'))
        subscription = self.subscription([{
            'registry': harbor.url, 'project': project}],
            projects=[PROJECTS[0]])
        self.assertSynced(self.sync(subscription, client_for=(
            lambda url: registry.RegistryClient(
                url, username='robot$sync', password='s3cret'))))
        # Registered, pointing at the Harbor host. (Glance reads another
        # registry than its own over HTTPS only, which this stand-in does
        # not serve: reading is test_registry_project_source's part.)
        image, = self.images(subscription).values()
        self.assertEqual(wanted.identifier, image.get(plan.APPDB_ID))
        self.assertIn(urllib.parse.urlsplit(harbor.url).netloc,
                      image.get(plan.MPURI))
        self.assertIn(('GET', '/api/v2.0/projects/%s/repositories'
                       % project), harbor.requests)

    def test_import_mode_copies_into_the_store(self):
        data, sums = self.push(100 * KiB)
        subscription = self.subscription(
            [{'image_list': self.write_list([self.appliance('Ubuntu',
                                                            sums)])}],
            mode='import', store='local', visibility='private')
        self.assertSynced(self.sync(subscription))
        image, = self.wait_active(subscription).values()
        record = self.catalog.image(image.id)
        self.assertEqual('local', record['stores'])
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         record['os_hash_value'])
        with open(os.path.join(self.glance.api.store_dir('local'),
                               image.id), 'rb') as f:
            self.assertEqual(data, f.read())
        self.assertEqual([], self.sync(subscription).planned)

    # -- the commands ------------------------------------------------------

    def write_subscriptions(self, sources):
        path = os.path.join(self.dir, '%s-subscriptions.yaml' % self.vo)
        with open(path, 'w') as f:
            yaml.safe_dump({'vos': {self.vo: {
                'sources': sources, 'ca_path': self.ca_path,
                'tag': 'sync-' + self.vo}}}, f)
        return path

    def test_console_script_dry_run_then_sync(self):
        _, sums = self.push()
        subs = self.write_subscriptions(
            [{'image_list': self.write_list([self.appliance('Ubuntu',
                                                            sums)])}])
        mapping = os.path.join(self.dir, '%s-vos.yaml' % self.vo)
        with open(mapping, 'w') as f:
            yaml.safe_dump({self.vo: PROJECTS}, f)
        conf = os.path.join(self.dir, '%s-sync.conf' % self.vo)
        with open(conf, 'w') as f:
            f.write('[sync]\nsubscriptions_file = %s\nworkers = 2\n'
                    '[grid]\nvo_mapping_file = %s\n' % (subs, mapping))

        def main(*args):
            out = io.StringIO()
            status = appliance_sync.main(['--config-file', conf] +
                                         list(args), out=out,
                                         connection=self.conn)
            return status, out.getvalue()

        del self.writes[:]
        status, text = main('--dry-run', '--vo', self.vo)
        self.assertEqual(0, status, text)
        self.assertIn('would run 1 actions', text)
        self.assertIn('register Ubuntu 1', text)
        self.assertEqual([], self.writes)

        status, text = main()
        self.assertEqual(0, status, text)
        subscription = subscriptions.load(subs)[self.vo]
        image, = self.wait_active(subscription).values()
        self.assertEqual({PROJECTS[0]: 'accepted', PROJECTS[1]: 'accepted'},
                         image.members)
        self.assertEqual((2, ''), main('--vo', 'nope.example.org'))

    def test_openstack_subscription_commands(self):
        _, sums = self.push()
        subs = self.write_subscriptions(
            [{'image_list': self.write_list([self.appliance('Ubuntu',
                                                            sums)])}])
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
        result = subprocess.run(
            [sys.executable, '-m', 'openstackclient.shell', 'appliance',
             'subscription', 'list', '--file', subs, '-f', 'json'],
            capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(0, result.returncode, result.stderr)
        row, = json.loads(result.stdout)
        self.assertEqual((self.vo, 'location', 'VO map'),
                         (row['VO'], row['Mode'], row['Projects']))

        # sync, in process, with the session a logged-in user would have;
        # without Keystone's catalog, its endpoint is Glance's v2 API.
        session = ks_session.Session(
            auth=noauth.NoAuth(endpoint=self.glance.url + '/v2'),
            additional_headers=self.conn.session.additional_headers)
        app = types.SimpleNamespace(client_manager=types.SimpleNamespace(
            session=session, region_name=None,
            interface='public', appliance=osc_plugin.ApplianceClient({})),
            stdout=io.StringIO())
        command = subscription_cmd.SyncSubscription(app, None)
        args = command.get_parser('sync').parse_args(
            ['--file', subs, '--vo', self.vo])
        # Keystone is not running: the projects come from the file.
        with open(subs) as f:
            data = yaml.safe_load(f)
        data['vos'][self.vo]['projects'] = [PROJECTS[1]]
        with open(subs, 'w') as f:
            yaml.safe_dump(data, f)
        columns, rows = command.take_action(args)
        self.assertEqual(
            [(self.vo, 'register', 'Ubuntu 1', 'done')],
            [(r[0], r[1], r[2], r[4]) for r in rows])
        columns, rows = command.take_action(args)
        self.assertEqual([], rows)

        # The exit status tells a cron job whether anything failed.
        self.assertEqual(0, command.run(args))
        data['vos'][self.vo]['sources'] = [
            {'image_list': os.path.join(self.dir, 'missing.list')}]
        with open(subs, 'w') as f:
            yaml.safe_dump(data, f)
        self.assertEqual(1, command.run(args))
        self.assertIn('source failed', app.stdout.getvalue())

    def test_content_not_matching_its_endorsement_never_serves(self):
        data, sums = self.push()
        _, other = self.push()
        # The list endorses other content than the blob it points to.
        forged = self.appliance('Ubuntu', sums)
        forged.sha512 = other.sha512
        path = self.write_list([forged])
        subscription = self.subscription([{'image_list': path}])
        self.assertSynced(self.sync(subscription))
        deadline = time.monotonic() + TASK_TIMEOUT
        while True:
            image, = self.images(subscription).values()
            tasks = self.conn.session.get('%s/v2/images/%s/tasks' % (
                self.glance.url, image.id)).json()['tasks']
            if tasks and tasks[0]['status'] == 'failure':
                break
            self.assertLess(time.monotonic(), deadline, tasks)
            time.sleep(0.3)
        self.assertEqual('queued', self.catalog.image(image.id)['status'])
        # The next run starts the registration afresh (and Glance refuses
        # it again); nothing is ever served.
        report = self.sync(subscription)
        self.assertEqual(['delete', 'register'],
                         [a.kind for a in report.planned])

        imported = self.subscription([{'image_list': path}], mode='import',
                                     store='local')
        imported.tag += '-import'
        report = self.sync(imported)
        (action, error), = report.failed
        self.assertEqual('register', action.kind)
        self.assertIn('sha512', error)
        self.assertEqual({}, self.images(imported))

    def test_interrupted_run_resumes_cleanly(self):
        data, sums = self.push()
        subscription = self.subscription(
            [{'image_list': self.write_list([self.appliance('Ubuntu',
                                                            sums)])}])
        syncer = runner.Synchronizer(
            self.catalog, lambda url: registry.RegistryClient(url),
            vo_map=self.vos, dry_run=True)
        register, = syncer.run([subscription])[0].planned
        # A run stopped after creating the image and sharing it once.
        stopped = self.catalog.create_image(register.args['spec'],
                                            subscription.tag)
        self.catalog.add_member(stopped, PROJECTS[0])

        report = self.sync(subscription)
        self.assertSynced(report)
        self.assertEqual([('delete', stopped), ('register', None)],
                         [(a.kind, a.image_id) for a in report.planned])
        image, = self.wait_active(subscription).values()
        self.assertEqual({PROJECTS[0]: 'accepted', PROJECTS[1]: 'accepted'},
                         image.members)
        self.assertEqual(data, self.download(image.id))

        # A retirement stopped after hiding, before deactivating.
        self.write_list([])
        retired_at = model.now().replace(microsecond=0)
        self.catalog.update_image(image.id, {
            'os_hidden': True, plan.RETIRED_AT: model.format_time(retired_at),
            plan.RETIRED_REASON: 'left',
            plan.DELETE_AFTER: model.format_time(
                retired_at + datetime.timedelta(
                    hours=subscription.grace_period))})
        report = self.sync(subscription)
        self.assertEqual([('deactivate', image.id)],
                         [(a.kind, a.image_id) for a in report.planned])
        self.assertEqual('deactivated',
                         self.catalog.image(image.id)['status'])
        self.assertEqual([], self.sync(subscription).planned)

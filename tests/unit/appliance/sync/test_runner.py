"""A sync run over the in-memory catalogue, from signed image lists."""

import json
import os
import threading

from stratuslab_plugins.appliance import signature
from stratuslab_plugins.appliance import subscriptions
from stratuslab_plugins.appliance.sync import catalog
from stratuslab_plugins.appliance.sync import runner
from stratuslab_plugins.grid import vo_map
from tests.fixtures import appdb
from tests.unit.appliance.sync import test_sources

VO = test_sources.VO


class FailingCatalog(catalog.MemoryCatalog):
    """Glance refusing one image's deletion (a failure made to order)."""

    refuse = None

    def delete(self, image_id):
        if image_id == self.refuse:
            raise catalog.CatalogError('Glance refused to delete %s'
                                       % image_id)
        super().delete(image_id)


class SharingCatalog(catalog.MemoryCatalog):
    """Records membership calls with their project; can refuse one."""

    refuse_accept = None
    #: A barrier every add_member call waits at, when set.
    barrier = None

    def __init__(self):
        super().__init__()
        self.shares = []
        self.lock = threading.Lock()

    def add_member(self, image_id, project):
        if self.barrier is not None:
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                raise catalog.CatalogError(
                    'the projects of image %s were shared one after the '
                    'other' % image_id) from None
        with self.lock:
            self.shares.append(('add', image_id, project))
            super().add_member(image_id, project)

    def accept_member(self, image_id, project):
        if project == self.refuse_accept:
            raise catalog.CatalogError('Glance refused to accept %s for %s'
                                       % (image_id, project))
        with self.lock:
            self.shares.append(('accept', image_id, project))
            super().accept_member(image_id, project)


class RunnerTest(test_sources.SignedListCase):

    def setUp(self):
        super().setUp()
        self.catalog = FailingCatalog()
        self.vos = vo_map.VOMap({'p1': VO, 'p2': VO, 'p3': 'other'})
        self.sub = subscriptions.parse({'vos': {VO: {
            'sources': [{'image_list': self.path}],
            'ca_path': self.ca_path}}})[VO]

    def run_sync(self, dry_run=False, workers=runner.DEFAULT_WORKERS):
        del self.catalog.calls[:]
        report, = runner.Synchronizer(self.catalog, client_for=None,
                                      vo_map=self.vos, dry_run=dry_run,
                                      workers=workers).run([self.sub])
        return report

    def test_first_run_registers_and_shares_second_writes_nothing(self):
        self.write([test_sources.appliance('Ubuntu'),
                    test_sources.appliance('Alma')])
        report = self.run_sync(dry_run=True)
        self.assertEqual(['register', 'register'],
                         [a.kind for a in report.planned])
        self.assertEqual([], self.catalog.calls)
        self.assertIn('would run 2 actions', report.summary())

        report = self.run_sync()
        self.assertTrue(report.ok, report.failed)
        self.assertEqual(2, len(self.catalog.images))
        for image in self.catalog.images.values():
            self.assertEqual('active', image.status)
            self.assertEqual({'p1': 'accepted', 'p2': 'accepted'},
                             image.members)
            self.assertEqual([subscriptions.DEFAULT_TAG],
                             image.attributes['tags'])
        self.assertEqual(12, len(self.catalog.calls))

        report = self.run_sync()
        self.assertEqual(([], []), (report.planned, self.catalog.calls))
        self.assertIn('2 images managed, ran 0 actions', report.summary())

    def test_failed_source_leaves_the_vo_alone(self):
        self.write([test_sources.appliance('Ubuntu')])
        self.run_sync()
        os.unlink(self.path)
        report = self.run_sync()
        self.assertFalse(report.ok)
        self.assertIn('unchanged, Cannot read', report.summary())
        self.assertEqual([], self.catalog.calls)

    def test_a_failed_action_is_reported_and_the_rest_goes_on(self):
        self.write([test_sources.appliance('Ubuntu'),
                    test_sources.appliance('Alma')])
        self.run_sync()
        ubuntu, alma = sorted(self.catalog.images)
        for image in self.catalog.images.values():
            image.status = 'queued'      # both interrupted
        self.catalog.refuse = ubuntu
        report = self.run_sync()
        (action, error), = report.failed
        self.assertEqual(('delete', ubuntu), (action.kind, action.image_id))
        self.assertIn('refused to delete', error)
        self.assertNotIn(alma, self.catalog.images)
        # Both appliances were registered afresh; the next run deletes
        # the left-over image.
        self.assertEqual(3, len(self.catalog.images))
        self.assertIn('1 failed', report.summary())
        self.catalog.refuse = None
        self.assertTrue(self.run_sync().ok)
        self.assertNotIn(ubuntu, self.catalog.images)
        self.assertEqual(['active', 'active'], [
            i.status for i in self.catalog.images.values()])

    def test_report_gives_the_sync_cpu_per_appliance(self):
        self.write([test_sources.appliance('Ubuntu')])
        report = self.run_sync()
        self.assertGreater(report.cpu_seconds, 0)
        self.assertGreaterEqual(report.seconds, 0)
        self.assertRegex(report.summary(),
                         r"; [0-9.]+ s, [0-9.]+ ms of the sync's CPU per "
                         r"appliance$")


class HostileListTest(test_sources.SignedListCase):
    """A signed list that fails in one VO leaves the others syncing."""

    def write_hostile(self, name, change, raw='"@RAW@"'):
        """Sign the AppDB list after ``change``; "@RAW@" becomes ``raw``."""
        doc = appdb.endorse(appdb.document(), self.jane)
        change(doc['hv:imagelist'])
        content = json.dumps(doc).replace('"@RAW@"', raw).encode()
        path = os.path.join(self.dir, name)
        with open(path, 'wb') as f:
            f.write(signature.sign(content, self.jane.cert_pem(),
                                   self.jane.key_pem()))
        return path

    def test_other_vos_sync_and_the_failure_is_reported(self):
        self.write([test_sources.appliance('Ubuntu')])
        huge = self.write_hostile('huge.list', lambda body: body[
            'hv:images'][0]['hv:image'].update({'hv:size': '@RAW@'}),
            raw='1e999')
        listed = self.write_hostile('endorser.list', lambda body: body.update(
            {'hv:endorser': ['not', 'an', 'object']}))
        subs = subscriptions.parse({'vos': {
            vo: {'sources': [{'image_list': path}], 'ca_path': self.ca_path}
            for vo, path in (('a.example.org', huge),
                             ('b.example.org', listed), (VO, self.path))}})
        memory = catalog.MemoryCatalog()
        first, second, good = runner.Synchronizer(
            memory, client_for=None, vo_map=vo_map.VOMap({'p1': VO})).run(
                subscriptions.select(subs))
        self.assertIn('entry 0 (7f1c5d25-614e-4409-bfa6-625d3ae7b9d4), '
                      'field hv:size', first.summary())
        self.assertIn('field hv:endorser', second.summary())
        self.assertTrue(good.ok, good.summary())
        self.assertEqual(1, len(memory.images))


class SharingTest(test_sources.SignedListCase):
    """Round 2: membership calls after the image calls, side by side."""

    def setUp(self):
        super().setUp()
        self.catalog = SharingCatalog()
        self.sub = subscriptions.parse({'vos': {VO: {
            'sources': [{'image_list': self.path}],
            'ca_path': self.ca_path, 'projects': ['p1', 'p2']}}})[VO]

    def run_sync(self, workers=4):
        report, = runner.Synchronizer(self.catalog, client_for=None,
                                      workers=workers).run([self.sub])
        return report

    def test_projects_of_one_image_are_shared_side_by_side(self):
        self.write([test_sources.appliance('Ubuntu')])
        # Each add_member waits until the other project's has come too:
        # shared one project after the other, the barrier breaks.
        self.catalog.barrier = threading.Barrier(2, timeout=10)
        report = self.run_sync(workers=2)
        self.assertTrue(report.ok, report.failed)
        image, = self.catalog.images.values()
        self.assertEqual({'p1': 'accepted', 'p2': 'accepted'}, image.members)

    def test_each_project_is_added_then_accepted_after_the_image_calls(self):
        self.write([test_sources.appliance('Ubuntu'),
                    test_sources.appliance('Alma')])
        self.assertTrue(self.run_sync().ok)
        for image_id in self.catalog.images:
            calls = [method for method, target in self.catalog.calls
                     if target == image_id]
            self.assertEqual(['create_image', 'add_location'], calls[:2])
            for project in ('p1', 'p2'):
                self.assertEqual(['add', 'accept'], [
                    kind for kind, target, member in self.catalog.shares
                    if (target, member) == (image_id, project)])

    def test_a_refused_share_is_reported_once_and_the_rest_goes_on(self):
        self.write([test_sources.appliance('Ubuntu')])
        self.catalog.refuse_accept = 'p1'
        report = self.run_sync()
        (action, error), = report.failed
        self.assertEqual('register', action.kind)
        self.assertIn('refused to accept', error)
        image, = self.catalog.images.values()
        self.assertEqual({'p1': 'pending', 'p2': 'accepted'}, image.members)
        # The next run finishes the share.
        self.catalog.refuse_accept = None
        report = self.run_sync()
        self.assertEqual(['accept_member'], [a.kind for a in report.planned])
        self.assertEqual({'p1': 'accepted', 'p2': 'accepted'}, image.members)

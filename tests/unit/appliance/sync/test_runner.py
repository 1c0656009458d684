"""A sync run over the in-memory catalogue, from signed image lists."""

import json
import os

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


class RunnerTest(test_sources.SignedListCase):

    def setUp(self):
        super().setUp()
        self.catalog = FailingCatalog()
        self.vos = vo_map.VOMap({'p1': VO, 'p2': VO, 'p3': 'other'})
        self.sub = subscriptions.parse({'vos': {VO: {
            'sources': [{'image_list': self.path}],
            'ca_path': self.ca_path}}})[VO]

    def run_sync(self, dry_run=False):
        del self.catalog.calls[:]
        report, = runner.Synchronizer(self.catalog, client_for=None,
                                      vo_map=self.vos,
                                      dry_run=dry_run).run([self.sub])
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

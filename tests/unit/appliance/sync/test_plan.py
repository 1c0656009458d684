"""The sync's plan, from plain data: offers, managed images, projects."""

import datetime
import hashlib

import testtools

from stratuslab_plugins.appliance import image_list
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import subscriptions
from stratuslab_plugins.appliance.sync import catalog
from stratuslab_plugins.appliance.sync import plan
from stratuslab_plugins.appliance.sync import sources
from tests.fixtures import appdb

VO = 'vo.example.org'
NOW = datetime.datetime(2026, 11, 1, 12, tzinfo=datetime.timezone.utc)
ENDORSER = model.Endorser(dn='/C=EU/CN=Jane', ca='/C=EU/CN=CA')


def appliance(name, content=None, **fields):
    content = content or name.encode()
    fields.setdefault('identifier',
                      '00000000-0000-4000-8000-%012d' % (sum(name.encode())))
    return model.Appliance(
        title=name, sha512=hashlib.sha512(content).hexdigest(),
        sha1=hashlib.sha1(content).hexdigest(), size=3 * 1024 ** 3,
        disk_format='qcow2', endorser=ENDORSER, os='Ubuntu',
        os_version='22.04', arch='x86_64', ram_minimum=1024, **fields)


def offer(item, entry=None):
    digest = 'sha256:' + 'a' * 64
    return sources.Offer(item, 'appliance://r.example/vo/x@' + digest,
                         ('https://r.example', 'vo/x', digest),
                         'image list L', 'list-1', entry)


def subscription(**settings):
    return subscriptions.parse({'vos': {VO: dict(
        sources=[{'image_list': '/l'}], **settings)}})[VO]


def managed(item, sub, status='active', members=None, **changes):
    attributes = plan.image_attributes(offer(item), sub)
    attributes.update(changes)
    return catalog.ManagedImage('img-' + item.title, status, attributes,
                                members or {})


def kinds(actions):
    return [(a.kind, a.image_id) for a in actions]


class ImageAttributesTest(testtools.TestCase):

    def test_egi_and_stratuslab_properties(self):
        item = appliance('Ubuntu', version='3',
                         expires=NOW + datetime.timedelta(days=1))
        attributes = plan.image_attributes(
            offer(item, {'dc:identifier': item.identifier,
                         'ad:mpuri': 'https://appdb.example/mp/1'}),
            subscription())
        self.assertEqual('Ubuntu 3', attributes['name'])
        self.assertEqual(item.identifier, attributes['appdb_id'])
        self.assertEqual('sha512:' + item.sha512, attributes['image_hash'])
        self.assertEqual('https://appdb.example/mp/1',
                         attributes['vmcatcher_event_ad_mpuri'])
        self.assertEqual('{"ad:mpuri":"https://appdb.example/mp/1",'
                         '"dc:identifier":"%s"}' % item.identifier,
                         attributes['APPLIANCE_ATTRIBUTES'])
        self.assertEqual('ubuntu', attributes['os_distro'])
        self.assertEqual('22.04', attributes['os_version'])
        self.assertEqual('x86_64', attributes['architecture'])
        self.assertEqual(1024, attributes['min_ram'])
        self.assertEqual(3, attributes['min_disk'])
        self.assertEqual('/C=EU/CN=Jane', attributes[plan.ENDORSER])
        self.assertEqual('2026-11-02T12:00:00Z', attributes[plan.EXPIRES])
        self.assertEqual(item.stratuslab_id, attributes[plan.IDENTIFIER])
        self.assertEqual('list-1', attributes['image_list'])
        self.assertEqual(VO, attributes[plan.VO])
        self.assertEqual('shared', attributes['visibility'])
        self.assertFalse(attributes['os_hidden'])

    def test_bad_min_disk_annotation_and_long_name(self):
        item = appliance('U' * 300, glance_properties={
            'org.openstack.glance.min_disk': 'big'})
        attributes = plan.image_attributes(offer(item), subscription())
        self.assertEqual(3, attributes['min_disk'])
        self.assertEqual('U' * 255, attributes['name'])

    def test_glance_annotations_win_and_mpuri_falls_back_to_location(self):
        item = appliance('Ubuntu', glance_properties={
            'org.openstack.glance.os_distro': 'ubuntu-minimal',
            'org.openstack.glance.min_disk': '20'})
        attributes = plan.image_attributes(offer(item), subscription())
        self.assertEqual('ubuntu-minimal', attributes['os_distro'])
        self.assertEqual(20, attributes['min_disk'])
        self.assertEqual(offer(item).location,
                         attributes['vmcatcher_event_ad_mpuri'])


class PlanTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sub = subscription(grace_period=24)
        self.ubuntu = appliance('Ubuntu')

    def plan(self, offers, images, projects=('p1', 'p2'), at=NOW, **kw):
        found = sources.Catalogue(offers=[offer(o) for o in offers], **kw)
        return plan.plan(self.sub, found, images, list(projects), at=at)

    def test_new_offer_is_registered_with_its_projects(self):
        action, = self.plan([self.ubuntu], [])
        self.assertEqual('register', action.kind)
        self.assertEqual(['p1', 'p2'], action.args['projects'])
        self.assertEqual(self.ubuntu.sha512, action.args['spec'].sha512)

    def test_up_to_date_image_needs_nothing(self):
        image = managed(self.ubuntu, self.sub,
                        members={'p1': 'accepted', 'p2': 'accepted'})
        self.assertEqual([], self.plan([self.ubuntu], [image]))

    def test_only_differences_are_written(self):
        image = managed(self.ubuntu, self.sub, members={'p1': 'pending',
                                                        'p3': 'accepted'},
                        stratuslab_expires='2020-01-01T00:00:00Z')
        actions = self.plan([self.ubuntu], [image])
        self.assertEqual(['update_image', 'add_member', 'accept_member',
                          'accept_member', 'remove_member'],
                         [a.kind for a in actions])
        self.assertEqual({}, actions[0].args['changes'])
        self.assertEqual(['stratuslab_expires'], actions[0].args['remove'])
        self.assertEqual(['p2', 'p1', 'p2', 'p3'],
                         [a.args['project'] for a in actions[1:]])

    def test_list_reissued_under_a_new_identifier_writes_nothing(self):
        # Endorsers re-sign their list every few days: new dc:identifier,
        # same entries. Issue 18: that rewrote image_list on every image.
        image = managed(self.ubuntu, self.sub, image_list='list-0',
                        members={'p1': 'accepted', 'p2': 'accepted'})
        self.assertEqual([], self.plan([self.ubuntu], [image]))
        image.attributes.pop('image_list')
        self.assertEqual([], self.plan([self.ubuntu], [image]))

    def test_list_identifier_rides_along_with_a_real_change(self):
        image = managed(self.ubuntu, self.sub, image_list='list-0',
                        name='Old name',
                        members={'p1': 'accepted', 'p2': 'accepted'})
        update, = self.plan([self.ubuntu], [image])
        self.assertEqual({'name': 'Ubuntu', 'image_list': 'list-1'},
                         update.args['changes'])

    def test_images_of_other_vos_are_not_seen(self):
        image = managed(self.ubuntu, self.sub, stratuslab_vo='other')
        self.assertEqual(['register'],
                         [a.kind for a in self.plan([self.ubuntu],
                                                    [image])])

    def test_withdrawn_image_is_hidden_deactivated_then_deleted(self):
        image = managed(self.ubuntu, self.sub)
        update, deactivate = self.plan([], [image])
        self.assertEqual(('deactivate', image.id),
                         (deactivate.kind, deactivate.image_id))
        self.assertEqual({'os_hidden': True,
                          plan.RETIRED_AT: '2026-11-01T12:00:00Z',
                          plan.RETIRED_REASON: 'appliance %s left the '
                          'sources' % self.ubuntu.identifier,
                          plan.DELETE_AFTER: '2026-11-02T12:00:00Z'},
                         update.args['changes'])
        image.status = 'deactivated'
        image.attributes.update(update.args['changes'])
        self.assertEqual([], self.plan([], [image],
                                       at=NOW + datetime.timedelta(hours=23)))
        delete, = self.plan([], [image],
                            at=NOW + datetime.timedelta(hours=24))
        self.assertEqual(('delete', image.id), (delete.kind, delete.image_id))

    def test_the_deletion_time_follows_the_grace_period(self):
        # The Appliances panel shows it to admins: it must stay true when
        # the site changes grace_period, and be added to images an older
        # sync retired.
        image = managed(self.ubuntu, self.sub, status='deactivated',
                        os_hidden=True,
                        stratuslab_retired_at='2026-11-01T00:00:00Z',
                        stratuslab_retired_reason='left')
        update, = self.plan([], [image])
        self.assertEqual({plan.DELETE_AFTER: '2026-11-02T00:00:00Z'},
                         update.args['changes'])
        image.attributes.update(update.args['changes'])
        self.assertEqual([], self.plan([], [image]))
        self.sub.grace_period = 72
        update, = self.plan([], [image])
        self.assertEqual({plan.DELETE_AFTER: '2026-11-04T00:00:00Z'},
                         update.args['changes'])

    def test_rejected_appliance_is_retired_with_its_reason(self):
        image = managed(self.ubuntu, self.sub)
        update, _ = self.plan([], [image], rejected={
            self.ubuntu.identifier: 'its endorsement expired'})
        self.assertEqual('its endorsement expired',
                         update.args['changes'][plan.RETIRED_REASON])

    def test_skipped_appliance_is_left_alone(self):
        image = managed(self.ubuntu, self.sub)
        self.assertEqual([], self.plan([], [image], skipped={
            self.ubuntu.identifier: 'no registry location'}))

    def test_new_version_replaces_old_per_policy(self):
        old = managed(self.ubuntu, self.sub)
        new = appliance('Ubuntu', b'v2', identifier=self.ubuntu.identifier)
        actions = self.plan([new], [old])
        self.assertEqual(['update_image', 'deactivate', 'register'],
                         [a.kind for a in actions])
        self.assertIn('replaced by a newer version',
                      actions[0].args['changes'][plan.RETIRED_REASON])
        self.sub.on_replace = 'hide'
        self.assertEqual(['update_image', 'register'],
                         [a.kind for a in self.plan([new], [old])])

    def test_replaces_field_retires_the_other_appliance(self):
        old = managed(self.ubuntu, self.sub)
        new = appliance('Noble', replaces=self.ubuntu.identifier)
        actions = self.plan([new], [old])
        self.assertIn('replaced by a newer version',
                      actions[0].args['changes'][plan.RETIRED_REASON])

    def test_offered_again_is_reactivated_and_shown(self):
        image = managed(self.ubuntu, self.sub, status='deactivated',
                        members={'p1': 'accepted', 'p2': 'accepted'},
                        os_hidden=True,
                        stratuslab_retired_at='2026-10-31T00:00:00Z',
                        stratuslab_retired_reason='left')
        reactivate, update = self.plan([self.ubuntu], [image])
        self.assertEqual('reactivate', reactivate.kind)
        self.assertEqual({'os_hidden': False}, update.args['changes'])
        self.assertEqual([plan.RETIRED_AT, plan.RETIRED_REASON],
                         update.args['remove'])

    def test_interrupted_registration_is_redone(self):
        image = managed(self.ubuntu, self.sub, status='queued')
        delete, register = self.plan([self.ubuntu], [image])
        self.assertEqual(('delete', image.id), (delete.kind, delete.image_id))
        self.assertEqual('register', register.kind)

    def test_location_being_validated_is_left_to_finish(self):
        image = managed(self.ubuntu, self.sub, status='queued',
                        members={'p1': 'accepted', 'p2': 'accepted'},
                        os_glance_import_task='task-1',
                        updated_at='2026-11-01T11:30:00Z')
        self.assertEqual([], self.plan([self.ubuntu], [image]))
        # A task holding the image for an hour is dead.
        self.assertEqual(['delete', 'register'], [
            a.kind for a in self.plan(
                [self.ubuntu], [image],
                at=NOW + datetime.timedelta(minutes=30))])

    def test_duplicate_is_deleted(self):
        first = managed(self.ubuntu, self.sub,
                        members={'p1': 'accepted', 'p2': 'accepted'})
        second = managed(self.ubuntu, self.sub,
                         members={'p1': 'accepted', 'p2': 'accepted'})
        second.id = 'img-other'
        action, = self.plan([self.ubuntu], [second, first])
        self.assertEqual(('delete', 'img-other'),
                         (action.kind, action.image_id))

    def test_private_images_have_no_members(self):
        self.sub.visibility = 'private'
        image = managed(self.ubuntu, self.sub, members={'p1': 'accepted'})
        action, = self.plan([self.ubuntu], [image])
        self.assertEqual(('remove_member', 'p1'),
                         (action.kind, action.args['project']))


class AppDBEntriesTest(testtools.TestCase):
    """The plan for entries in AppDB's spelling (tests/fixtures/appdb)."""

    def test_glance_formats_os_distro_and_marketplace_uri(self):
        listed = image_list.ImageList.from_document(appdb.document(),
                                                    'appdb.list')
        offers = [offer(item, entry) for item, entry in
                  zip(listed.appliances, appdb.entries())]
        actions = plan.plan(subscription(), sources.Catalogue(offers=offers),
                            [], ['p1'], at=NOW)
        specs = [action.args['spec'] for action in actions]
        self.assertEqual(
            [('qcow2', 'bare', 'ubuntu', '22.04', 512),
             ('vmdk', 'ova', 'centos', '7', 0),
             ('raw', 'bare', 'almalinux', '9', 1024),
             ('qcow2', 'bare', 'rocky', '9.4', 0)],
            [(spec.disk_format, spec.container_format,
              spec.attributes['os_distro'], spec.attributes['os_version'],
              spec.attributes['min_ram']) for spec in specs])
        self.assertEqual([entry['ad:mpuri'] for entry in appdb.entries()],
                         [spec.attributes[plan.MPURI] for spec in specs])

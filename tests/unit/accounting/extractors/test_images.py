"""ImageId: the AppDB marketplace URI, or the Glance id; Glance read once.

The real Glance is in ``tests/functional/accounting/test_image_ids.py``;
here Glance's JSON shapes over HTTP for what it does not produce on
demand: refusals, a Glance that pages in circles, hostile URIs.
"""

import fixtures
import hypothesis
from hypothesis import strategies
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import testtools

from stratuslab_plugins.accounting.extractors import images
from tests.unit.accounting.extractors import fake_cloud
from tests.unit.accounting import fakes

URI = 'https://appdb.egi.eu/store/vm/image/c0ffee00-1d3a-4c5e:8021/'
HIDDEN_URI = 'https://appdb.egi.eu/store/vm/image/0ddba11c-2e4f-4a6b:77/'


class TestImageIdRule(testtools.TestCase):

    def test_each_source(self):
        cases = {
            images.AUTO: ('uri', 'img'),
            images.MPURI: ('uri', None),
            images.GLANCE: ('img', 'img'),
        }
        for source, expected in cases.items():
            self.assertEqual(expected, (
                images.image_id('img', 'uri', source),
                images.image_id('img', None, source)), source)

    def test_uri_that_would_be_cut_or_mangled_is_not_used(self):
        self.assertEqual(URI, images.usable_uri(' %s\n' % URI))
        for bad in (None, '', '  ', 42, ['x'], {'a': 1}, 'x' * 256,
                    'https://appdb.egi.eu/caf\u00e9', 'a\nb', 'a\x00b'):
            self.assertIsNone(images.usable_uri(bad), repr(bad))
        self.assertEqual('x' * 255, images.usable_uri('x' * 255))

    @hypothesis.settings(max_examples=100, deadline=None)
    @hypothesis.given(strategies.text(max_size=300))
    def test_a_usable_uri_fits_an_apel_record_whole(self, text):
        uri = images.usable_uri(text)
        if uri is not None:
            self.assertLessEqual(len(uri), images.MAX_LENGTH)
            self.assertTrue(uri.isascii() and uri.isprintable())
            self.assertEqual(text.strip(), uri)


class TestImageIds(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger())

    def image_ids(self, documents, source=images.AUTO, forbidden=()):
        self.cloud = self.useFixture(fake_cloud.FakeCloud(
            {}, documents=documents, forbidden=forbidden))
        session = ks_session.Session(auth=noauth.NoAuth(
            endpoint=self.cloud.url))
        conf = fakes.make_conf()
        extractor = fakes.ListExtractor(conf, session)
        return images.ImageIds(source, 1000, lambda s: extractor.adapter(
            'image', s)), session

    def paths(self):
        return [path for path, _ in self.cloud.requests]

    def test_listed_once_and_each_missing_image_read_once(self):
        ids, session = self.image_ids({
            '/v2/images': {'images': [
                fake_cloud.glance_image('a', vmcatcher_event_ad_mpuri=URI),
                fake_cloud.glance_image('b')],
                'first': '/v2/images', 'schema': '/v2/schemas/images'},
            '/v2/images/hidden': fake_cloud.glance_image(
                'hidden', os_hidden=True,
                vmcatcher_event_ad_mpuri=HIDDEN_URI)})

        for _ in range(3):
            self.assertEqual([URI, 'b', HIDDEN_URI, 'gone', None], [
                ids.get(i, session) for i in ('a', 'b', 'hidden', 'gone',
                                              None)])
        self.assertEqual(['/v2/images', '/v2/images/hidden',
                          '/v2/images/gone'], self.paths())
        self.assertEqual(3, ids.calls)
        [(_, query)] = [r for r in self.cloud.requests
                        if r[0] == '/v2/images']
        self.assertEqual(['all'], query['visibility'])

    def test_refused_glance_warns_once_and_keeps_glance_ids(self):
        ids, session = self.image_ids({}, forbidden={'/v2/images'})

        self.assertEqual(['a', 'b', 'a'], [ids.get(i, session)
                                           for i in ('a', 'b', 'a')])
        self.assertEqual(['/v2/images'], self.paths())
        self.assertEqual(1, self.log.output.count('Cannot read image names'))
        self.assertIn('Glance refused GET /v2/images', self.log.output)

    def test_absent_glance_warns_once(self):
        # No image service at that endpoint: every path answers 404.
        ids, session = self.image_ids({})
        self.assertEqual(['a', 'b'], [ids.get(i, session) for i in 'ab'])
        self.assertEqual(1, self.log.output.count('Cannot read image names'))

    def test_glance_paging_in_circles_stops(self):
        # Glance's next link pointing back at the same page for ever.
        ids, session = self.image_ids({'/v2/images': {
            'images': [fake_cloud.glance_image('a')],
            'next': '/v2/images?marker=a'}})
        self.assertEqual('a', ids.get('a', session))
        self.assertEqual(['/v2/images', '/v2/images'], self.paths())

    def test_glance_id_source_reads_nothing(self):
        ids, session = self.image_ids({}, source=images.GLANCE)
        self.assertEqual('a', ids.get('a', session))
        self.assertEqual([], self.paths())

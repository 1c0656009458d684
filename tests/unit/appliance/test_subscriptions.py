"""The subscriptions file: defaults, validation, messages, VO map."""

import os

import fixtures
import testtools
import yaml

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import subscriptions
from stratuslab_plugins.grid import vo_map

SAMPLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'etc',
                      'appliance-subscriptions.yaml.sample')


def parse(vo_settings, **top):
    return subscriptions.parse(dict(top, vos={'vo.example': vo_settings}),
                               'subs.yaml')['vo.example']


LIST = [{'image_list': 'https://lists.example/vo.list'}]


class ParseTest(testtools.TestCase):

    def test_defaults(self):
        sub = parse({'sources': LIST})
        self.assertEqual('location', sub.mode)
        self.assertEqual('shared', sub.visibility)
        self.assertEqual(subscriptions.DEFAULT_TAG, sub.tag)
        self.assertEqual('/etc/grid-security/certificates', sub.ca_path)
        self.assertEqual(72, sub.grace_period)
        self.assertEqual('retire', sub.on_replace)
        self.assertIsNone(sub.projects)
        self.assertTrue(sub.policy.require_signature)
        self.assertTrue(sub.accepts_format('vmdk'))
        source, = sub.sources
        self.assertEqual(('image_list', True), (source.kind, source.is_url))

    def test_defaults_section_and_vo_keys(self):
        sub = parse({'sources': LIST + [{
            'registry': 'https://reg.example:5000/', 'project': 'vo/',
            'tags': '2*'}], 'mode': 'import', 'store': 'local',
            'disk_formats': ['qcow2'], 'projects': ['p2', 'p1', 'p1']},
            defaults={'tag': 'egi', 'grace_period': 0,
                      'trust_policy': {'endorsers': {'deny': ['x@y']}}})
        self.assertEqual(('egi', 0, 'local'), (sub.tag, sub.grace_period,
                                               sub.store))
        self.assertEqual(('x@y',), sub.policy.denied_endorsers)
        registry = sub.sources[1]
        self.assertEqual(('https://reg.example:5000', 'vo'),
                         (registry.location, registry.project))
        self.assertTrue(registry.wants_tag('22.04'))
        self.assertFalse(registry.wants_tag('nightly'))
        self.assertFalse(sub.accepts_format('raw'))
        self.assertEqual(['p1', 'p2'], sub.target_projects())

    def test_projects_from_the_vo_map(self):
        sub = parse({'sources': LIST})
        vos = vo_map.VOMap({'a': 'vo.example', 'b': 'vo.example',
                            'c': 'other'})
        self.assertEqual(['a', 'b'], sub.target_projects(vos))
        self.assertEqual([], sub.target_projects(None))

    def assertRefused(self, settings, *words, **top):
        error = self.assertRaises(exceptions.InvalidInput, parse, settings,
                                  **top)
        for word in ('subs.yaml',) + words:
            self.assertIn(word, str(error))

    def test_bad_settings_are_named(self):
        self.assertRefused({}, 'VO vo.example.sources', 'at least one')
        self.assertRefused({'sources': LIST, 'mode': 'copy'},
                           'VO vo.example.mode', "'copy'", 'location')
        self.assertRefused({'sources': LIST, 'mode': 'import'},
                           'store')
        self.assertRefused({'sources': LIST, 'colour': 'red'},
                           'unknown keys colour')
        self.assertRefused({'sources': [{'image_list': 'x',
                                         'registry': 'https://r'}]},
                           'sources[0]', 'exactly one')
        self.assertRefused({'sources': [{'registry': 'ftp://r',
                                         'project': 'p'}]},
                           'sources[0].registry')
        self.assertRefused({'sources': [{'registry': 'https://r'}]},
                           'sources[0].project')
        self.assertRefused({'sources': LIST, 'grace_period': '3d'},
                           'grace_period', 'hours')
        self.assertRefused({'sources': LIST, 'disk_formats': ['exe']},
                           'disk_formats', "'exe'")
        self.assertRefused({'sources': LIST, 'visibility': 'private',
                            'projects': ['p']}, 'only shared')
        self.assertRefused({'sources': LIST}, 'unknown keys extra',
                           extra=1)
        for adopt, named in (('https://r', 'a mapping'),
                             ({'registry': 'ftp://r', 'repository': 'a'},
                              'ftp://r'),
                             ({'registry': 'https://r', 'repository': 'A/..'},
                              "'A/..'"),
                             ({'registry': 'https://r'}, 'adopt.repository'),
                             ({'registry': 'https://r', 'repository': 'a',
                               'ca_file': 3}, 'adopt.ca_file')):
            self.assertRefused({'sources': LIST, 'adopt': adopt},
                               'VO vo.example.adopt', named)

    def test_adopt(self):
        sub = parse({'sources': LIST, 'adopt': {
            'registry': 'https://reg.example/', 'repository': 'adopted/vo',
            'ca_file': '/etc/ssl/ca.pem'}})
        self.assertEqual(subscriptions.Adoption(
            'https://reg.example', 'adopted/vo', '/etc/ssl/ca.pem'),
            sub.adopt)
        self.assertIsNone(parse({'sources': LIST}).adopt)
        self.assertTrue(sub.accepts_format('ova'))

    def test_trust_policy_file_relative_to_the_subscriptions_file(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(tmp, 'policy.yaml'), 'w') as f:
            yaml.safe_dump({'allow_deprecated': True}, f)
        path = os.path.join(tmp, 'subs.yaml')
        with open(path, 'w') as f:
            yaml.safe_dump({'vos': {'vo': {'sources': LIST,
                                           'trust_policy': 'policy.yaml'}}},
                           f)
        sub, = subscriptions.select(subscriptions.load(path))
        self.assertTrue(sub.policy.allow_deprecated)

    def test_unreadable_file(self):
        error = self.assertRaises(exceptions.InvalidInput,
                                  subscriptions.load, '/nonexistent.yaml')
        self.assertIn('/nonexistent.yaml', str(error))

    def test_select(self):
        subs = subscriptions.parse({'vos': {'b': {'sources': LIST},
                                            'a': {'sources': LIST}}})
        self.assertEqual(['a', 'b'],
                         [s.vo for s in subscriptions.select(subs)])
        self.assertEqual(['b'], [s.vo for s in
                                 subscriptions.select(subs, ['b'])])
        error = self.assertRaises(exceptions.InvalidInput,
                                  subscriptions.select, subs, ['c'])
        self.assertIn('No subscription for VO c', str(error))

    def test_sample_file_is_valid(self):
        with open(SAMPLE) as f:
            data = yaml.safe_load(f)
        # The sample names a site's policy file; its settings are tested
        # in test_trust.
        del data['defaults']['trust_policy']
        subs = subscriptions.parse(data, SAMPLE)
        self.assertEqual(['biomed', 'vo.example.org'], sorted(subs))
        self.assertEqual('import', subs['biomed'].mode)
        self.assertEqual(['registry'], [
            s.kind for s in subs['vo.example.org'].sources][1:])
        self.assertEqual('adopted/vo.example.org',
                         subs['vo.example.org'].adopt.repository)

"""The options reach oslo-config-generator, each with useful help."""

import fixtures
from oslo_config import cfg
from oslo_config import generator
from oslotest import base
import stevedore

from stratuslab_plugins import conf


def generate_sample(test):
    """Return the sample oslo-config-generator writes for our namespace."""
    output = test.useFixture(fixtures.TempDir()).join('sample.conf')
    gen_conf = cfg.ConfigOpts()
    generator.register_cli_opts(gen_conf)
    gen_conf(['--namespace', 'stratuslab_plugins', '--output-file', output])
    generator.generate(gen_conf)
    with open(output) as sample:
        return sample.read()


class TestListOpts(base.BaseTestCase):

    def _load_entry_point(self):
        manager = stevedore.NamedExtensionManager(
            'oslo.config.opts', names=['stratuslab_plugins'],
            invoke_on_load=False, on_load_failure_callback=self._fail)
        self.assertEqual(['stratuslab_plugins'], manager.names())
        return manager['stratuslab_plugins'].plugin()

    def _fail(self, manager, entrypoint, exc):
        self.fail('entry point %s did not load: %s' % (entrypoint, exc))

    def test_entry_point_lists_every_area(self):
        groups = dict(self._load_entry_point())
        self.assertIn('grid', groups)
        names = {opt.name for opt in groups['grid']}
        self.assertIn('vo_project_property', names)

    def test_every_option_has_help(self):
        for group, opts in self._load_entry_point():
            for opt in opts:
                with self.subTest(group=group, option=opt.name):
                    self.assertTrue(opt.help and len(opt.help.strip()) > 20,
                                    '[%s] %s has no useful help text'
                                    % (group, opt.name))

    def test_option_names_are_unique_per_group(self):
        for group, opts in self._load_entry_point():
            names = [opt.dest for opt in opts]
            self.assertEqual(len(names), len(set(names)),
                             'duplicate option in [%s]' % group)

    def test_every_area_registers_what_it_lists(self):
        local = cfg.ConfigOpts()
        for module in conf._area_modules():
            module.register_opts(local)
            for group, opts in module.list_opts():
                for opt in opts:
                    with self.subTest(group=group, option=opt.name):
                        self.assertIn(opt.dest, local[group])

    def test_generator_writes_a_sample(self):
        text = generate_sample(self)
        self.assertIn('[grid]', text)
        self.assertIn('#vo_project_property = egi.VO', text)


#: What oslo-config-generator itself writes (not our help text).
GENERATOR_TEXT = ('its actual default value may vary from the one documented',)


def lone_word_lines(sample):
    """Return the sample's comment lines holding one word inside a paragraph.

    A paragraph's last line holding one word is what per-line wrapping
    of help written wrapped in the source gives.
    """
    found = []
    previous = ''
    for line in sample.splitlines():
        words = line[1:].split()
        if (line.startswith('# ') and len(words) == 1
                and previous.startswith('# ') and previous[2:3] != ' '
                and not any(text in previous for text in GENERATOR_TEXT)):
            found.append('%s / %s' % (previous, line))
        previous = line
    return found


class TestSampleLayout(base.BaseTestCase):

    def test_no_line_of_the_sample_holds_a_lone_word(self):
        self.assertEqual([], lone_word_lines(generate_sample(self)))

    def test_the_check_sees_a_lone_word(self):
        self.assertEqual(
            ['# Topic of the notifications, watched for a / # warning.'],
            lone_word_lines('# Topic of the notifications, watched for a\n'
                            '# warning.\n#\n'))

    def test_reflow_keeps_list_items_and_literal_lines(self):
        help_text = ('Summary line.\n\nA paragraph written\nwrapped in '
                     'the source.\n\nPossible values:\n\n* one\n* two\n\n'
                     'Example::\n\n    kept = as written\n')
        self.assertEqual(
            'Summary line.\n\nA paragraph written wrapped in the source.\n\n'
            'Possible values:\n\n* one\n* two\n\nExample::\n\n'
            '    kept = as written',
            conf.reflow_help(help_text))

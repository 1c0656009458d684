"""Plugins are found through their entry points."""

import testtools

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.extractors import nova
from stratuslab_plugins.accounting import loading
from stratuslab_plugins.accounting.messengers import ssm


class TestLoading(testtools.TestCase):

    def test_installed_plugins(self):
        self.assertIs(nova.NovaExtractor,
                      loading.extractor_classes(['nova'])['nova'])
        classes = loading.messenger_classes(['noop', 'ssm', 'json'])
        self.assertEqual(['noop', 'ssm', 'json'], list(classes))
        self.assertIs(ssm.SSMMessenger, classes['ssm'])

    def test_unknown_name_lists_installed(self):
        exc = self.assertRaises(exceptions.ConfigurationError,
                                loading.messenger_classes, ['ssm', 'kafka'])
        self.assertIn('kafka', str(exc))
        self.assertIn('messengers', str(exc))
        self.assertIn('noop', str(exc))

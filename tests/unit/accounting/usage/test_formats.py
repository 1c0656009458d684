"""The format watch: one warning when Nova sends only legacy notifications.

The listener test (``test_listener``) checks it through the listener;
these check the watch's own counting.
"""

import fixtures
import testtools

from stratuslab_plugins.accounting.usage import formats


class FormatWatchTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.logger = self.useFixture(fixtures.FakeLogger(
            name='stratuslab_plugins.accounting.usage.formats'))
        self.watch = formats.FormatWatch()

    def test_no_warning_when_versioned_notifications_arrive(self):
        self.watch.saw_versioned()
        self.watch.saw_unversioned(100)
        self.assertFalse(self.watch.warned)
        self.assertEqual('', self.logger.output)

    def test_one_warning_naming_novas_options_at_the_threshold(self):
        self.watch.saw_unversioned(formats.FormatWatch.threshold - 1)
        self.assertEqual('', self.logger.output)
        self.watch.saw_unversioned()
        self.watch.saw_unversioned(100)
        self.assertEqual(1, self.logger.output.count('only unversioned'))
        for option in formats.NOVA_OPTIONS:
            self.assertIn(option, self.logger.output)

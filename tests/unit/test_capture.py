"""The capture of output around blocks run outside a test (class fixtures)."""

import io
import logging

import fixtures
import testtools

from tests import capture

LOG = logging.getLogger(__name__)


class CapturedTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.stderr = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', self.stderr))

    def run_block(self, fail):
        with capture.captured('Panels.setUpClass'):
            print('server started')
            LOG.info('schema migrated')
            if fail:
                raise RuntimeError('keystone did not start')

    def test_a_block_that_passes_prints_nothing(self):
        self.run_block(fail=False)
        self.assertEqual('', self.stderr.getvalue())

    def test_a_block_that_fails_shows_what_it_wrote_and_logged(self):
        self.assertRaises(RuntimeError, self.run_block, fail=True)
        shown = self.stderr.getvalue()
        self.assertIn('--- output of Panels.setUpClass ---', shown)
        self.assertIn('server started', shown)
        self.assertIn('INFO [tests.unit.test_capture] schema migrated', shown)

    def test_handlers_added_in_the_block_are_removed(self):
        root = logging.getLogger()
        before = list(root.handlers)
        with capture.captured('block'):
            root.addHandler(logging.StreamHandler())
        self.assertEqual(before, root.handlers)

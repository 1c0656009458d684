"""A file re-read on change, keeping its last good content."""

import logging
import os

import fixtures
import testtools

from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import watched_file


def parse(path, text):
    if text.startswith('bad'):
        raise exceptions.SourceFileError(path, 'is bad')
    return text.strip()


class TestWatchedFile(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'status')
        self.logs = self.useFixture(fixtures.FakeLogger(
            name=watched_file.__name__, level=logging.WARNING))
        self.parsed = []

        def counting_parse(path, text):
            self.parsed.append(text)
            return parse(path, text)

        self.watched = watched_file.WatchedFile(self.path, counting_parse,
                                                'empty')

    def write(self, text, mtime):
        with open(self.path, 'w') as stream:
            stream.write(text)
        os.utime(self.path, ns=(mtime, mtime))

    def test_reads_once_until_the_file_changes(self):
        self.write('one', 1)
        self.assertEqual('one', self.watched.get())
        self.assertEqual('one', self.watched.get())
        self.assertEqual(1, len(self.parsed))
        self.write('two', 2)
        self.assertEqual('two', self.watched.get())

    def test_bad_or_missing_file_keeps_last_good(self):
        self.assertEqual('empty', self.watched.get())
        self.write('one', 1)
        self.watched.get()
        self.write('bad!', 2)
        self.assertEqual('one', self.watched.get())
        self.assertEqual('one', self.watched.get())
        os.unlink(self.path)
        self.assertEqual('one', self.watched.get())

        self.assertEqual(1, self.logs.output.count('is bad'))
        # Missing at start, bad once, missing again: one warning each.
        self.assertEqual(3, self.logs.output.count('keeping'))

    def test_no_path(self):
        self.assertEqual('empty',
                         watched_file.WatchedFile(None, parse, 'empty').get())

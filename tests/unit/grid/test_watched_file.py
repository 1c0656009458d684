"""A file re-read on change, keeping its last good content."""

import logging
import os
import threading

import fixtures
import testtools

from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import watched_file
from tests.unit.grid import fuzzing


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
        self.watched = self.watch()

    def watch(self, **kwargs):
        def counting_parse(path, text):
            self.parsed.append(text)
            return parse(path, text)

        return watched_file.WatchedFile(self.path, counting_parse, 'empty',
                                        **kwargs)

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

    def test_a_file_over_the_cap_is_refused_from_its_size(self):
        self.write('one', 1)
        self.watched.get()
        # 200 MB (sparse: no disk is written): main read it whole and took
        # 1.5 GB of memory to parse it.
        with open(self.path, 'wb') as stream:
            stream.truncate(200 * 1024 * 1024)
        content, peak = fuzzing.peak_memory(self.watched.get)

        self.assertEqual('one', content)
        self.assertLess(peak, 1024 * 1024)
        self.assertEqual(['one'], self.parsed)
        self.assertEqual(1, self.logs.output.count(
            'is larger than %d bytes, the cap on site files ([grid_scheduler]'
            ' site_file_max_bytes); not read; keeping its last good content'
            % watched_file.DEFAULT_MAX_BYTES))
        self.watched.get()
        self.assertEqual(1, self.logs.output.count('is larger than'))

    def test_the_cap_is_configurable(self):
        watched = self.watch(max_bytes=5)
        self.write('12345', 1)
        self.assertEqual('12345', watched.get())
        self.write('123456', 2)
        self.assertEqual('12345', watched.get())
        self.assertIn('is larger than 5 bytes', self.logs.output)

    def test_a_file_that_says_nothing_of_its_size(self):
        # A pipe (like /proc files) has size 0 whatever it holds: the read
        # stops one byte past the cap.
        os.mkfifo(self.path)

        def feed():
            with open(self.path, 'w') as stream:
                stream.write('123456')

        writer = threading.Thread(target=feed)
        writer.start()
        self.addCleanup(writer.join)
        exc = self.assertRaises(exceptions.SourceFileError,
                                watched_file.read_site_file, self.path, 5)
        self.assertIn('is larger than 5 bytes', str(exc))

    def test_not_utf8(self):
        with open(self.path, 'wb') as stream:
            stream.write(b'ok \xff')
        exc = self.assertRaises(exceptions.SourceFileError,
                                watched_file.load_site_file, self.path, parse)
        self.assertEqual('%s is not UTF-8 text (byte 3)' % self.path,
                         str(exc))

    def test_a_parser_bug_keeps_the_last_good_content(self):
        def buggy(path, text):
            if text == 'two':
                raise RecursionError('a bug')
            return text

        watched = watched_file.WatchedFile(self.path, buggy, 'empty')
        self.write('one', 1)
        self.assertEqual('one', watched.get())
        self.write('two', 2)
        self.assertEqual('one', watched.get())
        self.assertEqual('one', watched.get())
        self.assertEqual(1, self.logs.output.count('a bug, please report'))

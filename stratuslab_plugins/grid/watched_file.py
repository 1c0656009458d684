"""A site file re-read only when it changes, keeping the last good content.

Downtime files and batch status files are written by other tools (a cron
job fetching GOCDB, the batch system's hook). The scheduler looks at them
once per request: a ``stat()`` tells whether the file changed, and only
then is it parsed again. A file that turns bad or disappears leaves the
last good content in force, with one warning per change of the file, so
a half-written file never empties the site's downtimes.

A file larger than a cap (``[grid_scheduler] site_file_max_bytes``) is
refused from its size, before any of it is read: parsing multiplies the
memory a text takes (up to about 25 times for JSON, 50 for YAML), so the
cap is what bounds the memory a site file can cost the scheduler.
"""

import logging
import os

from stratuslab_plugins.grid import exceptions

LOG = logging.getLogger(__name__)

#: The default cap on a site file's size, in bytes (2 MiB: GOCDB's answer
#: for a site, or a status line for each of 50,000 hosts, fit many times).
DEFAULT_MAX_BYTES = 2 * 1024 * 1024


def _too_big(path, max_bytes):
    return exceptions.SourceFileError(
        path, 'is larger than %d bytes, the cap on site files ([grid_'
        'scheduler] site_file_max_bytes); not read' % max_bytes)


def read_site_file(path, max_bytes=DEFAULT_MAX_BYTES):
    """Return the text of a site file of at most ``max_bytes`` bytes.

    :raises SourceFileError: naming the file, when it cannot be read, is
        larger than ``max_bytes`` (refused from its size, or after reading
        one byte more for a file that grows or says nothing of its size)
        or is not UTF-8 text.
    """
    try:
        with open(path, 'rb') as stream:
            if os.fstat(stream.fileno()).st_size > max_bytes:
                raise _too_big(path, max_bytes)
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        raise exceptions.SourceFileError(
            path, 'cannot be read (%s)' % exc.strerror)
    if len(data) > max_bytes:
        raise _too_big(path, max_bytes)
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise exceptions.SourceFileError(
            path, 'is not UTF-8 text (byte %d)' % exc.start)


def load_site_file(path, parse, max_bytes=DEFAULT_MAX_BYTES):
    """Return ``parse(path, text)`` of a site file, read as UTF-8.

    :raises SourceFileError: from :func:`read_site_file`; ``parse``'s own
        ``GridError`` otherwise.
    """
    return parse(path, read_site_file(path, max_bytes))


class WatchedFile(object):
    """The parsed content of ``path``, refreshed when the file changes.

    :param path: the file to watch; None or empty means no file.
    :param parse: ``parse(path, text)`` returning the content; raises
        :class:`~stratuslab_plugins.grid.exceptions.GridError` on bad input.
    :param empty: the content in force before a good read.
    :param max_bytes: the largest file read (see :func:`read_site_file`).
    """

    def __init__(self, path, parse, empty, max_bytes=DEFAULT_MAX_BYTES):
        self.path = path
        self._parse = parse
        self._max_bytes = max_bytes
        self._content = empty
        self._signature = None

    def _stat_signature(self):
        try:
            st = os.stat(self.path)
        except OSError as exc:
            return ('missing', exc.errno)
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def get(self):
        """Return the content, re-reading the file if it changed."""
        if not self.path:
            return self._content
        signature = self._stat_signature()
        if signature != self._signature:
            self._signature = signature
            self._reload(signature)
        return self._content

    def _reload(self, signature):
        if signature[0] == 'missing':
            LOG.warning('%s cannot be read (%s); keeping its last good '
                        'content.', self.path, os.strerror(signature[1]))
            return
        try:
            self._content = load_site_file(self.path, self._parse,
                                           self._max_bytes)
        except exceptions.GridError as exc:
            LOG.warning('%s; keeping its last good content.', exc)
        # The parsers raise GridError only (their fuzz tests say so); should
        # one still fail otherwise, a request must not pay for it: the
        # scheduler keeps the last good content, and the trace says where.
        except Exception:
            LOG.exception('%s could not be parsed (a bug, please report '
                          'it with this trace); keeping its last good '
                          'content.', self.path)

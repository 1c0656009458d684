"""A site file re-read only when it changes, keeping the last good content.

Downtime files and batch status files are written by other tools (a cron
job fetching GOCDB, the batch system's hook). The scheduler looks at them
once per request: a ``stat()`` tells whether the file changed, and only
then is it parsed again. A file that turns bad or disappears leaves the
last good content in force, with one warning per change of the file, so
a half-written file never empties the site's downtimes.
"""

import logging
import os

from stratuslab_plugins.grid import exceptions

LOG = logging.getLogger(__name__)


def load_site_file(path, parse):
    """Return ``parse(path, text)`` of a site file, read as UTF-8.

    :raises SourceFileError: naming the file, when it cannot be read or is
        not UTF-8 text; ``parse``'s own ``GridError`` otherwise.
    """
    try:
        with open(path, encoding='utf-8') as stream:
            return parse(path, stream.read())
    except OSError as exc:
        raise exceptions.SourceFileError(
            path, 'cannot be read (%s)' % exc.strerror)
    except UnicodeDecodeError:
        raise exceptions.SourceFileError(path, 'is not UTF-8 text')


class WatchedFile(object):
    """The parsed content of ``path``, refreshed when the file changes.

    :param path: the file to watch; None or empty means no file.
    :param parse: ``parse(path, text)`` returning the content; raises
        :class:`~stratuslab_plugins.grid.exceptions.GridError` on bad input.
    :param empty: the content in force before a good read.
    """

    def __init__(self, path, parse, empty):
        self.path = path
        self._parse = parse
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
            self._content = load_site_file(self.path, self._parse)
        except exceptions.GridError as exc:
            LOG.warning('%s; keeping its last good content.', exc)

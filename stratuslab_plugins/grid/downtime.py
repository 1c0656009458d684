"""Downtime windows: when a host must not receive new instances.

A site declares downtimes in GOCDB before an intervention; the cloud should
stop placing instances that would still run when it starts. Windows come
from three places, all merged:

* the aggregate key ``grid_downtime``: ``START/END[;START/END...]`` in
  ISO 8601, UTC unless an offset is given;
* a downtime file (``[grid_scheduler] downtime_file``), re-read when it
  changes, in one of three formats recognised by its first character:

  - text, one host a line, ``HOSTNAME START/END``, for example
    ``wn01.example.org 2026-03-02T08:00Z/2026-03-02T18:00Z``
    (several windows separated by ``;``; ``#`` starts a comment);
  - GOCDB's ``get_downtime`` XML, as saved from
    ``https://goc.egi.eu/gocdbpi/public/?method=get_downtime&topentity=SITE``:
    ``<DOWNTIME>`` elements with ``HOSTNAME``, ``SEVERITY``,
    ``START_DATE`` and ``END_DATE`` (POSIX seconds, or ISO 8601);
  - JSON: a list of objects with those four keys (any case), or an object
    holding that list under ``results`` or ``DOWNTIME``.

Only ``OUTAGE`` downtimes keep instances away; a ``WARNING`` ("at risk")
downtime leaves the service up, so it is ignored.

A host is blocked when ``now`` is inside a window, or when its next window
starts before the instance is expected to end (``now + lifetime``). With no
lifetime known, only the window in progress counts.

A file is all or nothing: the first bad entry (a date that is not one,
with digits other than ASCII's, a window ending before it starts, a
host name that is not text) refuses the whole file with an error naming
the file and the entry, and the scheduler keeps the file's last good
content (see ``watched_file``). Dates are POSIX seconds of at most eleven
ASCII digits or ISO 8601 date-times; JSON is read within the bounds of
``structured``, XML through defusedxml (no entities, no external
references).
"""

import collections
import io
import re

import defusedxml
from defusedxml import ElementTree

from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import structured
from stratuslab_plugins.grid import values

SEVERITY_OUTAGE = 'OUTAGE'


class Window(collections.namedtuple('Window', 'start end')):
    """One downtime, as POSIX seconds ``[start, end)``."""

    __slots__ = ()


def make_window(key, start, end, text):
    """Return ``Window(start, end)``, refusing one that ends first.

    :param text: what the window was read from, for the message.
    """
    if end <= start:
        raise exceptions.MetadataValueError(
            key, text, 'a window whose end comes after its start')
    return Window(start, end)


def parse_window(key, text):
    """Parse ``START/END`` into a :class:`Window`."""
    start, sep, end = str(text).partition('/')
    if not sep:
        raise exceptions.MetadataValueError(key, text, 'START/END')
    return make_window(key, values.parse_timestamp(key, start),
                       values.parse_timestamp(key, end), text)


def parse_windows(key, value):
    """Parse ``START/END[;START/END...]`` into a tuple of windows."""
    return tuple(parse_window(key, part)
                 for part in str(value).split(';') if part.strip())


def blocks(windows, now, lifetime=None):
    """Return True when ``windows`` keep a new instance off the host.

    :param windows: iterable of :class:`Window`.
    :param now: POSIX seconds of the request.
    :param lifetime: seconds the instance is expected to run, or None.
    """
    horizon = now if lifetime is None else now + lifetime
    for window in windows:
        if window.end > now and window.start <= horizon:
            return True
    return False


def host_names(*names):
    """Return the lower-case names and short names a host answers to."""
    found = set()
    for name in names:
        if name:
            name = name.lower()
            found.add(name)
            found.add(name.split('.', 1)[0])
    return found


def _add(table, hostname, windows):
    # Lists while parsing (a host may have thousands of windows: adding
    # tuples would copy them all each time), tuples once done.
    table.setdefault(hostname.strip().lower(), []).extend(windows)


def _frozen(table):
    return {name: tuple(windows) for name, windows in table.items()}


def _parse_text(path, text):
    table = {}
    # One line at a time: a list of every line of a big file would cost
    # several times the file.
    for number, line in enumerate(io.StringIO(text, newline=None), 1):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        hostname, _, spec = line.partition(' ')
        if not spec.strip():
            raise exceptions.SourceFileError(
                path, 'line %d: expected "HOSTNAME START/END", got %s'
                % (number, exceptions.describe(line)))
        try:
            _add(table, hostname, parse_windows(hostname, spec.strip()))
        except exceptions.MetadataValueError as exc:
            raise exceptions.SourceFileError(
                path, 'line %d: %s' % (number, exc))
    return _frozen(table)


# GOCDB writes POSIX seconds; ASCII digits only (str.isdigit() also takes
# '²', which float() then refuses), eleven at most (year 5138).
_POSIX_SECONDS = re.compile('[0-9]{1,11}')


def _gocdb_time(key, value):
    expected = ('POSIX seconds (at most 11 ASCII digits) or an ISO 8601 '
                'date-time')
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 10 ** 11:
            raise exceptions.MetadataValueError(key, value, expected)
        return float(value)
    if isinstance(value, str) and _POSIX_SECONDS.fullmatch(value.strip()):
        # strip() also takes \x1c-\x1f, which float() refuses.
        return float(value.strip())
    try:
        return values.parse_timestamp(key, value)
    except exceptions.MetadataValueError:
        raise exceptions.MetadataValueError(key, value, expected)


def _gocdb_text(fields, name, path):
    value = fields.get(name)
    if value is None or isinstance(value, str):
        return (value or '').strip()
    raise exceptions.SourceFileError(
        path, 'a downtime has %s=%s, not text'
        % (name, exceptions.describe(value)))


def _add_gocdb_record(table, path, record):
    fields = {str(k).upper(): v for k, v in record.items()}
    hostname = _gocdb_text(fields, 'HOSTNAME', path)
    missing = [k for k in ('START_DATE', 'END_DATE')
               if fields.get(k) in (None, '')]
    if not hostname or missing:
        raise exceptions.SourceFileError(
            path, 'a downtime lacks %s' % ', '.join(
                ([] if hostname else ['HOSTNAME']) + missing))
    severity = _gocdb_text(fields, 'SEVERITY', path) or SEVERITY_OUTAGE
    if severity.upper() != SEVERITY_OUTAGE:
        return
    try:
        start = _gocdb_time('START_DATE', fields['START_DATE'])
        end = _gocdb_time('END_DATE', fields['END_DATE'])
        window = make_window('START_DATE/END_DATE', start, end, '%s/%s' % (
            fields['START_DATE'], fields['END_DATE']))
    except exceptions.MetadataValueError as exc:
        raise exceptions.SourceFileError(
            path, 'downtime of %s: %s' % (exceptions.describe_name(hostname),
                                          exc))
    _add(table, hostname, [window])


def _parse_xml(path, text):
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise exceptions.SourceFileError(path, 'is not valid XML (%s)' % exc)
    except defusedxml.DefusedXmlException as exc:
        raise exceptions.SourceFileError(
            path, 'uses XML features refused for safety (%s)' % exc)
    table = {}
    for element in root.iter('DOWNTIME'):
        _add_gocdb_record(table, path, {child.tag: child.text
                                        for child in element})
    return _frozen(table)


def _parse_json(path, text):
    content = structured.load_json(path, text)
    if isinstance(content, dict):
        content = content.get('results', content.get('DOWNTIME'))
    if not isinstance(content, list) or not all(
            isinstance(r, dict) for r in content):
        raise exceptions.SourceFileError(
            path, 'must hold a list of downtime objects')
    table = {}
    for record in content:
        _add_gocdb_record(table, path, record)
    return _frozen(table)


def parse_downtime_file(path, text):
    """Parse a downtime file into ``{hostname: (Window, ...)}``.

    :param path: the file's name, for messages.
    :param text: its content.
    :raises SourceFileError: naming the file and what is wrong in it.
    """
    stripped = text.lstrip()
    if stripped.startswith('<'):
        return _parse_xml(path, text)
    if stripped.startswith(('[', '{')):
        return _parse_json(path, text)
    return _parse_text(path, text)


class DowntimeTable(object):
    """Downtimes of a file, looked up by a host's names.

    :param table: ``{hostname: windows}`` from :func:`parse_downtime_file`.
    :param site_endpoints: hostnames whose downtimes apply to every host
        (the site's cloud endpoints as registered in GOCDB).
    """

    def __init__(self, table=None, site_endpoints=()):
        self._table = table or {}
        self._site = tuple(w for name in site_endpoints
                           for w in self._table.get(name.lower(), ()))

    def __bool__(self):
        """False when no window applies to any host."""
        return bool(self._table)

    def windows_for(self, names):
        """Return the windows applying to a host known by ``names``."""
        found = self._site
        for name in names:
            found = found + self._table.get(name, ())
        return found

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
"""

import collections
import json

import defusedxml
from defusedxml import ElementTree

from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import values

SEVERITY_OUTAGE = 'OUTAGE'


class Window(collections.namedtuple('Window', 'start end')):
    """One downtime, as POSIX seconds ``[start, end)``."""

    __slots__ = ()


def parse_window(key, text):
    """Parse ``START/END`` into a :class:`Window`."""
    start, sep, end = str(text).partition('/')
    if not sep:
        raise exceptions.MetadataValueError(key, text, 'START/END')
    window = Window(values.parse_timestamp(key, start),
                    values.parse_timestamp(key, end))
    if window.end <= window.start:
        raise exceptions.MetadataValueError(
            key, text, 'a window whose end comes after its start')
    return window


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
    hostname = str(hostname).strip().lower()
    table[hostname] = table.get(hostname, ()) + tuple(windows)


def _parse_text(path, text):
    table = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        hostname, _, spec = line.partition(' ')
        if not spec.strip():
            raise exceptions.SourceFileError(
                path, 'line %d: expected "HOSTNAME START/END", got %r'
                % (number, line))
        try:
            _add(table, hostname, parse_windows(hostname, spec.strip()))
        except exceptions.MetadataValueError as exc:
            raise exceptions.SourceFileError(
                path, 'line %d: %s' % (number, exc))
    return table


def _gocdb_time(key, value):
    text = str(value).strip()
    if text.isdigit():
        return float(text)
    return values.parse_timestamp(key, text)


def _add_gocdb_record(table, path, record):
    fields = {str(k).upper(): v for k, v in record.items()}
    missing = [k for k in ('HOSTNAME', 'START_DATE', 'END_DATE')
               if not fields.get(k)]
    if missing:
        raise exceptions.SourceFileError(
            path, 'a downtime lacks %s' % ', '.join(missing))
    if str(fields.get('SEVERITY', SEVERITY_OUTAGE)).upper() != \
            SEVERITY_OUTAGE:
        return
    try:
        window = Window(_gocdb_time('START_DATE', fields['START_DATE']),
                        _gocdb_time('END_DATE', fields['END_DATE']))
    except exceptions.MetadataValueError as exc:
        raise exceptions.SourceFileError(
            path, 'downtime of %s: %s' % (fields['HOSTNAME'], exc))
    _add(table, fields['HOSTNAME'], [window])


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
    return table


def _parse_json(path, text):
    try:
        content = json.loads(text)
    except ValueError as exc:
        raise exceptions.SourceFileError(path, 'is not valid JSON (%s)' % exc)
    if isinstance(content, dict):
        content = content.get('results', content.get('DOWNTIME'))
    if not isinstance(content, list) or not all(
            isinstance(r, dict) for r in content):
        raise exceptions.SourceFileError(
            path, 'must hold a list of downtime objects')
    table = {}
    for record in content:
        _add_gocdb_record(table, path, record)
    return table


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

"""Checked reads of the values a notification carries.

Anything on the message bus may have been written by any publisher with
the broker's credentials, or by a broken one. Every value the listener
takes from a notification goes through here before it reaches the
ledger: its type, its size and its range are checked, and a value that
fails is refused with :class:`MalformedNotification`, naming the field
and showing (a bounded part of) the value. The listener keeps a refused
notification in ``usage_rejected`` and acknowledges it; nothing a
publisher sends can make a batch fail in the database and come back for
ever::

    integer('many', 'vcpus', 'instance.create.end')  # MalformedNotification
    parse_time('2026-01-01 10:00:00', 'timestamp', 'message m-1')  # UTC
    identifier('project_id', ['a'], 'instance.create.end')  # refused

The bounds are the ledger's and Nova's own: Nova refuses flavor sizes
above ``nova.db.constants.MAX_INT`` (the ledger's ``Integer`` columns
hold the same), and no cloud ran an instance before 2000.
"""

import datetime
import reprlib

from oslo_utils import timeutils

from stratuslab_plugins.accounting import exceptions

UTC = datetime.timezone.utc

#: Largest flavor size Nova accepts (``nova.db.constants.MAX_INT``), and
#: what the ledger's ``Integer`` columns hold on every database.
MAX_INT = 2 ** 31 - 1
#: Largest value of the ledger's ``BigInteger`` columns (CPU nanoseconds).
MAX_BIGINT = 2 ** 63 - 1
#: Times outside ``[EARLIEST, LATEST)`` are refused: no cloud ran an
#: instance before 2000, and a time past 2100 is a broken clock or a
#: hostile publisher (it would sort after every real event).
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime.datetime(2100, 1, 1, tzinfo=UTC)
#: Longest ISO 8601 text read as a time (with microseconds and an offset
#: it is 32 characters).
MAX_TIME_TEXT = 64
#: Longest number read from a string (an integer up to MAX_BIGINT).
MAX_NUMBER_TEXT = 24

#: Longest value the usage ledger keeps for each text field (its column
#: sizes). Identifiers longer than this are malformed: their notification
#: is rejected with the reason instead of failing the batch on a database
#: that enforces column sizes (PostgreSQL, MariaDB; SQLite does not).
#: Fields shown to people only are cut to fit instead.
FIELD_LIMITS = {
    'instance_uuid': 36, 'event_type': 64, 'project_id': 64, 'user_id': 64,
    'image_id': 36, 'host': 255, 'flavor_id': 255, 'run_id': 64,
}
#: Fields shown to people only, cut to their column size.
DISPLAY_LIMITS = {'message_id': 64, 'name': 255}

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 60
_SHOWN.maxlevel = 2
_SHOWN.maxlist = _SHOWN.maxdict = _SHOWN.maxtuple = 4


class MalformedNotification(exceptions.AccountingError):
    """A notification the listener cannot read; it is kept and dropped."""

    #: Longest reason kept: a message naming several hostile values (each
    #: bounded by :func:`shown`) could still grow past what a log line or
    #: a ``usage_rejected`` row should hold (the fuzz suite found one).
    MAX_LENGTH = 500

    def __init__(self, message):
        if len(message) > self.MAX_LENGTH:
            message = message[:self.MAX_LENGTH - 3] + '...'
        super().__init__(message)


def shown(value):
    """Return a short ``repr`` of ``value`` for an error message.

    Bounded whatever the value's size or nesting, so a hostile value
    cannot flood the log or the ``usage_rejected`` table.
    """
    return _SHOWN.repr(value)


def _refuse(what, field, value, why):
    raise MalformedNotification('%s: %s is %s, %s' % (
        what, field, shown(value), why))


def text(value, field, what):
    """Return ``value`` if it is a string (or None); refuse other types."""
    if value is None or isinstance(value, str):
        return value
    _refuse(what, field, value, 'not a string')


def identifier(field, value, what):
    """Return an identifier checked for type, characters and length.

    :param field: a key of :data:`FIELD_LIMITS`.
    """
    if value.__class__ is str and len(value) <= FIELD_LIMITS[field] \
            and value.isprintable():
        return value  # the usual case, first
    value = text(value, field, what)
    if value is None:
        return None
    if len(value) > FIELD_LIMITS[field]:
        raise MalformedNotification(
            '%s: %s is %d characters long, more than the %d the usage '
            'ledger keeps (%s...)' % (what, field, len(value),
                                      FIELD_LIMITS[field], shown(value[:40])))
    if not value.isprintable():
        _refuse(what, field, value, 'with control or unpaired characters')
    return value


def check_identifiers(what, values):
    """Return ``{field: value}`` with each value checked by identifier()."""
    return {field: identifier(field, value, what)
            for field, value in values.items()}


def fit_display(field, value):
    """Return a display-only string that every database stores.

    Cut to the column size; an unpaired surrogate (JSON allows
    ``"\\ud800"``, UTF-8 does not) and NUL (PostgreSQL refuses it) become
    U+FFFD. A value that is not a string is not shown at all.
    """
    if not isinstance(value, str):
        return None
    value = value[:DISPLAY_LIMITS[field]]
    if not value.isprintable():
        value = ''.join(
            '\ufffd' if char == '\x00' or '\ud800' <= char <= '\udfff'
            else char for char in value)
    return value


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if (isinstance(value, str) and len(value) <= MAX_NUMBER_TEXT
            and value.isascii()):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def integer(value, field, what, low=0, high=MAX_INT):
    """Return ``value`` as an int in ``[low, high]``, or None if absent.

    Integers, integral floats and strings of ASCII digits are read;
    booleans, fractions, NaN, infinities and other types are refused.

    :param field: and ``what``: name the value in a refusal (formatted
        only then: the listener reads thousands of values a second).
    """
    if value is None:
        return None
    number = value if value.__class__ is int else _number(value)
    if number is None:
        raise MalformedNotification('%s %s is %s, not an integer'
                                    % (what, field, shown(value)))
    if not low <= number <= high:
        raise MalformedNotification('%s %s is %d, outside [%d, %d]'
                                    % (what, field, number, low, high))
    return number


def _parse_iso(text):
    # Python's own parser reads both of Nova's forms, several times faster
    # than iso8601's (it matters at thousands of events a second); the
    # latter still reads what it does not.
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return timeutils.parse_isotime(text)


def parse_time(value, field, what):
    """Return ``value`` (ISO 8601 string or datetime) as aware UTC.

    Nova writes envelope timestamps as ``2026-01-01 10:00:00.000001``
    (naive, UTC) and payload times as ``2026-01-01T10:00:00Z``. None for
    an absent time; a time outside ``[EARLIEST, LATEST)`` is refused.
    """
    if value is None or value == '':
        return None
    if isinstance(value, str) and len(value) <= MAX_TIME_TEXT:
        try:
            value = _parse_iso(value)
        except (ValueError, OverflowError) as exc:
            raise MalformedNotification(
                '%s %s is %s, not an ISO 8601 time (%s)'
                % (what, field, shown(value), shown(str(exc))))
    if not isinstance(value, datetime.datetime):
        raise MalformedNotification('%s %s is %s, not an ISO 8601 time'
                                    % (what, field, shown(value)))
    try:
        value = (value.replace(tzinfo=UTC) if value.tzinfo is None
                 else value.astimezone(UTC))
    except OverflowError:
        value = None
    if value is None or not EARLIEST <= value < LATEST:
        raise MalformedNotification(
            '%s %s is outside [%s, %s): not a time of this cloud'
            % (what, field, EARLIEST.date(), LATEST.date()))
    return value

"""How the contract's string values are written and read.

Aggregate metadata, flavor extra specs and hints are all strings. This
module says, once, what a valid value looks like (the regular expressions
and bounds the extra-spec validators give to Nova's API) and turns a
string into the value the policy uses (the parsers every filter and
weigher calls).

Every number is bounded, so that no value a user or an operator can type
makes the policy overflow or compare with NaN: numbers are decimal with at
most nine digits before the point (and twenty after, room for what
``str(float)`` writes, such as ``0.30000000000000004``), lifetimes at most a
century,
weight multipliers finite and at most a million either way. Digits are
ASCII only (``float()`` and ``str.isdigit()`` also take ``²`` or ``٣``).
The validators in ``scheduler/extra_specs.py`` use the same patterns and
bounds, so nova-api refuses every flavor value the filters would refuse.

Standard library only: Nova's API imports the extra-spec validators, which
import this module, and a failing import there stops nova-api from
starting (see ``scheduler/extra_specs.py``).
"""

import datetime
import math
import re

from stratuslab_plugins.grid import exceptions

# A positive decimal number such as 12, 12.5 or .5, with at least one
# non-zero digit, at most nine digits before the point and twenty after (Nova's
# validators only know str, int and bool, so a float is a string with a
# pattern, and its bounds are in the pattern).
POSITIVE_NUMBER_PATTERN = (
    r'(?=[0-9.]*[1-9])([0-9]{1,9}(\.[0-9]{0,20})?|\.[0-9]{1,20})')
# A VO name as EGI writes them (atlas, vo.example.org, enmr.eu), at most
# 255 characters.
VO_PATTERN = r'[A-Za-z0-9][A-Za-z0-9._-]{0,254}'
# The longest lifetime a flavor or a hint may give: a century, in seconds.
MAX_LIFETIME = 100 * 365 * 24 * 3600
# The largest weight multiplier, either way.
MAX_MULTIPLIER = 1e6

_POSITIVE_NUMBER = re.compile(POSITIVE_NUMBER_PATTERN)
_VO = re.compile(VO_PATTERN)
# The strings oslo.utils' strict bool_from_string takes (what Nova's bool
# validator accepts), after strip() and lower().
_TRUE = ('1', 't', 'true', 'on', 'y', 'yes')
_FALSE = ('0', 'f', 'false', 'off', 'n', 'no')


def _text(key, value, expected):
    if not isinstance(value, str):
        raise exceptions.MetadataValueError(key, value, expected)
    return value.strip()


def parse_positive_number(key, value):
    """Return ``value`` as a float greater than zero (see the pattern)."""
    expected = ('a positive number such as 15.5 (decimal, at most 9 digits '
                'before the point and 20 after)')
    text = _text(key, value, expected)
    if not _POSITIVE_NUMBER.fullmatch(text):
        raise exceptions.MetadataValueError(key, value, expected)
    return float(text)


def parse_seconds(key, value):
    """Return ``value`` as whole seconds, from zero to :data:`MAX_LIFETIME`.

    Read with ``int()``, as Nova's int validator does, so that the two
    agree on every string.
    """
    expected = 'a whole number of seconds from 0 to %d' % MAX_LIFETIME
    text = _text(key, value, expected)
    try:
        seconds = int(text)
    except ValueError:
        seconds = -1
    if not 0 <= seconds <= MAX_LIFETIME:
        raise exceptions.MetadataValueError(key, value, expected)
    return seconds


def parse_bool(key, value):
    """Return ``value`` (true/false, yes/no, on/off, t/f, y/n, 1/0)."""
    text = _text(key, value, 'true or false').lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise exceptions.MetadataValueError(key, value, 'true or false')


def parse_vo(key, value):
    """Return ``value`` if it is a VO name (see :data:`VO_PATTERN`)."""
    if not isinstance(value, str) or not _VO.fullmatch(value):
        raise exceptions.MetadataValueError(
            key, value, 'a VO name such as atlas or vo.example.org')
    return value


def parse_finite(key, value, low=-MAX_MULTIPLIER, high=MAX_MULTIPLIER):
    """Return ``value`` as a finite float from ``low`` to ``high``.

    A NaN or infinite weight multiplier (or tolerance) would make every
    weight NaN or infinite and the host order meaningless; huge ones add
    up to infinity.
    """
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not low <= number <= high:
        raise exceptions.MetadataValueError(
            key, value, 'a number from %g to %g' % (low, high))
    return number


def parse_multiplier(key, value):
    """Return ``value`` as a weight multiplier (see :func:`parse_finite`)."""
    return parse_finite(key, value)


def parse_choice(key, value, choices):
    """Return ``value`` lower-cased if it is one of ``choices``."""
    text = str(value).strip().lower()
    if text not in choices:
        raise exceptions.MetadataValueError(
            key, value, 'one of %s' % ', '.join(choices))
    return text


def parse_list(value):
    """Return the non-empty items of a comma-separated list."""
    return tuple(item.strip() for item in str(value).split(',')
                 if item.strip())


def parse_timestamp(key, value):
    """Return an ISO 8601 date-time as POSIX seconds; naive means UTC."""
    expected = 'an ISO 8601 date-time such as 2026-01-31T08:00Z'
    text = _text(key, value, expected)
    try:
        if not text.isascii():
            raise ValueError(text)
        moment = datetime.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        return moment.timestamp()
    except (ValueError, OverflowError):
        raise exceptions.MetadataValueError(key, value, expected)

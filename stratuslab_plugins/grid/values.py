"""How the contract's string values are written and read.

Aggregate metadata, flavor extra specs and hints are all strings. This
module says, once, what a valid value looks like (the regular expressions
the extra-spec validators give to Nova's API) and turns a string into the
value the policy uses (the parsers every filter and weigher calls).

Standard library only: Nova's API imports the extra-spec validators, which
import this module, and a failing import there stops nova-api from
starting (see ``scheduler/extra_specs.py``).
"""

import datetime

from stratuslab_plugins.grid import exceptions

# A positive decimal number such as 12, 12.5 or .5 (Nova's validators only
# know str, int and bool, so a float is a string with a pattern).
POSITIVE_NUMBER_PATTERN = r'([0-9]+(\.[0-9]*)?|\.[0-9]+)'
# A VO name as EGI writes them (atlas, vo.example.org, enmr.eu).
VO_PATTERN = r'[A-Za-z0-9][A-Za-z0-9._-]*'

_TRUE = ('true', '1', 'yes', 'on')
_FALSE = ('false', '0', 'no', 'off')


def parse_positive_number(key, value):
    """Return ``value`` as a float greater than zero."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not number > 0 or number == float('inf'):
        raise exceptions.MetadataValueError(key, value, 'a positive number')
    return number


def parse_seconds(key, value):
    """Return ``value`` as a whole number of seconds (zero or more)."""
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        seconds = -1
    if seconds < 0:
        raise exceptions.MetadataValueError(key, value,
                                            'a whole number of seconds')
    return seconds


def parse_bool(key, value):
    """Return ``value`` (true/false, yes/no, on/off, 1/0) as a bool."""
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise exceptions.MetadataValueError(key, value, 'true or false')


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
    try:
        moment = datetime.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise exceptions.MetadataValueError(
            key, value, 'an ISO 8601 date-time such as 2026-01-31T08:00Z')
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()

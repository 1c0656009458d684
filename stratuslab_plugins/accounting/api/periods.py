"""The period and buckets of a usage API request, from its query values.

Query parameters are hostile input: every value is parsed here, bounded,
and refused with :class:`BadRequest` naming the parameter; nothing else
escapes (``since=0001-01-01T00:00:00+01:00`` is before the first
representable UTC time and is refused, not an ``OverflowError``).

A period never extends past the time of the request. Asking for the
whole month on the 17th gives usage up to now, and :class:`Period` says
so (``until`` is the request time, ``requested_until`` the month's end):
running instances are not counted into the future::

    p = period('2026-11-01', '2026-12-01', now, max_days=400)
    edges = boundaries(p.since, p.until, 'day', max_points=400)
    p.partial(edges[-2])    # True: the last day is still running
"""

import calendar
import dataclasses
import datetime
import urllib.parse

from stratuslab_plugins.accounting import exceptions

UTC = datetime.timezone.utc
STEPS = ('day', 'month')
GROUPINGS = ('vo', 'project')
_INSTANT = datetime.timedelta(microseconds=1)
#: Longest query value read; longer ones are refused unread.
MAX_VALUE_LENGTH = 64
#: Longest query string read, and most parameters in it.
MAX_QUERY_LENGTH = 2048
MAX_PARAMETERS = 16


class BadRequest(exceptions.AccountingError):
    """A request parameter cannot be used; the message names it."""


def _shown(value):
    """The value as an error message quotes it: short, printable."""
    text = repr(value)
    return text if len(text) <= MAX_VALUE_LENGTH else (
        text[:MAX_VALUE_LENGTH] + '...')


def query_values(query_string):
    """Return ``{name: value}`` of a raw query string (the last value wins).

    An empty value counts as absent (a form's empty field).

    Parsed here rather than by the web framework, which fails on bytes
    that are not UTF-8 without saying where.

    :param query_string: the WSGI ``QUERY_STRING`` (bytes as latin-1).
    :raises BadRequest: naming the parameter that is not UTF-8 text, or
        for a query string longer than :data:`MAX_QUERY_LENGTH` or with
        more than :data:`MAX_PARAMETERS` parameters.
    """
    if len(query_string) > MAX_QUERY_LENGTH:
        raise BadRequest('the query string is %d characters long; the API '
                         'reads at most %d' % (len(query_string),
                                               MAX_QUERY_LENGTH))
    pairs = [pair for pair in query_string.split('&') if pair]
    if len(pairs) > MAX_PARAMETERS:
        raise BadRequest('the query string has %d parameters; the API reads '
                         'at most %d' % (len(pairs), MAX_PARAMETERS))
    values = {}
    for pair in pairs:
        name, _, value = (urllib.parse.unquote_to_bytes(
            part.replace('+', ' ')) for part in pair.partition('='))
        try:
            name = name.decode('utf-8')
        except UnicodeDecodeError:
            raise BadRequest('parameter name %s is not UTF-8 text'
                             % _shown(name))
        try:
            text = value.decode('utf-8')
        except UnicodeDecodeError:
            raise BadRequest('%s=%s is not UTF-8 text' % (name,
                                                          _shown(value)))
        if text:
            values[name] = text
        else:
            # An empty field of a form: as if not given.
            values.pop(name, None)
    return values


def parse_time(value, name):
    """Parse an ISO 8601 query parameter (UTC when it has no offset).

    :raises BadRequest: naming ``name``, for anything but a time that
        exists in UTC.
    """
    if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
        raise BadRequest('%s=%s is not an ISO 8601 time' % (
            name, _shown(value)))
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest('%s=%s is not an ISO 8601 time such as '
                         '2026-11-01 or 2026-11-01T12:00:00+00:00'
                         % (name, _shown(value)))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise BadRequest('%s=%s is outside the range of UTC times '
                         '(years 1 to 9999)' % (name, _shown(value)))


def choice(value, name, choices, default):
    """Return ``value`` if it is one of ``choices`` (``default`` if None)."""
    if value is None:
        return default
    if value not in choices:
        raise BadRequest('%s=%s is not one of %s' % (
            name, _shown(value), ', '.join(choices)))
    return value


def start_of_month(when):
    return when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclasses.dataclass(frozen=True)
class Period:
    """What a request covers.

    :param since: its start.
    :param until: its end as computed: the requested end, or the time of
        the request if that is earlier.
    :param requested_until: the end asked for (the time of the request
        when none was given).
    :param now: the time of the request.
    """

    since: datetime.datetime
    until: datetime.datetime
    requested_until: datetime.datetime
    now: datetime.datetime

    def partial(self, bucket_start, step):
        """True if the bucket starting there had not ended at the request.

        Only the last bucket of a period cut at the time of the request
        can be: its values are measured up to now, and will grow.
        """
        return (self.until == self.now
                and next_boundary(bucket_start, step) > self.now)

    def as_dict(self):
        return {'since': self.since.isoformat(),
                'until': self.until.isoformat(),
                'requested_until': self.requested_until.isoformat()}


def period(since, until, now, max_days):
    """Return the :class:`Period` of query values; default: this month.

    :param since: a string or None. :param until: a string or None.
    :param now: the time of the request (aware UTC).
    :param max_days: the longest period allowed (``[accounting_api]
        max_period_days``), measured to the computed end.
    """
    requested = parse_time(until, 'until') if until is not None else now
    # The default start is the month of the period's last instant (an
    # end at midnight on the 1st means the month before).
    if since is not None:
        since = parse_time(since, 'since')
    elif requested > datetime.datetime.min.replace(tzinfo=UTC):
        since = start_of_month(min(requested, now) - _INSTANT)
    else:
        raise BadRequest('until=%s leaves no time before it' % (
            _shown(until),))
    if since >= now:
        raise BadRequest('since=%s is after the time of this request (%s): '
                         'no usage is recorded for the future'
                         % (since.isoformat(), now.isoformat()))
    if since >= requested:
        raise BadRequest('since=%s is not before until=%s'
                         % (since.isoformat(), requested.isoformat()))
    end = min(requested, now)
    if (end - since).days > max_days:
        raise BadRequest(
            'since=%s: the period to %s is longer than %d days '
            '([accounting_api] max_period_days); ask for a shorter one'
            % (since.date(), end.date(), max_days))
    return Period(since, end, requested, now)


def next_boundary(when, step):
    """Return the start of the day or month after the one ``when`` is in."""
    if step == 'day':
        return (when + datetime.timedelta(days=1)).replace(
            hour=0, minute=0, second=0, microsecond=0)
    days = calendar.monthrange(when.year, when.month)[1]
    return start_of_month(when) + datetime.timedelta(days=days)


def boundaries(since, until, step, max_points):
    """Return the bucket edges ``[since, b1, ..., until]``.

    Buckets follow calendar days or months (UTC); the first and last are
    cut to the period.

    :raises BadRequest: naming ``step`` for an unknown step, or for more
        than ``max_points`` buckets.
    """
    choice(step, 'step', STEPS, None)
    edges = [since]
    while edges[-1] < until:
        if len(edges) > max_points:
            raise BadRequest(
                'step=%s over %s..%s gives more than %d buckets '
                '([accounting_api] max_points): use step=month or a shorter '
                'period' % (step, since.date(), until.date(), max_points))
        edges.append(min(next_boundary(edges[-1], step), until))
    return edges

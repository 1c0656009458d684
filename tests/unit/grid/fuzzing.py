"""What the grid pillar's Hypothesis fuzz tests share.

Every parser of site input (downtime files, status files, aggregate
metadata, extra specs and hints, APEL numbers) has a property test: for
any input, only the documented error escapes, and the memory it takes
stays within a fixed multiple of the input's size. The strategies mix
well-formed values with what broke the parsers before: Unicode digits
(``²``, ``٣``), numbers of hundreds of digits, ``nan`` and ``inf``,
deep nesting, lists where text is expected.

The examples per test are few (the unit suite must stay fast); set
``STRATUSLAB_FUZZ_EXAMPLES`` to explore more locally, e.g. 2000.
"""

import os
import pickle
import tracemalloc

import hypothesis
from hypothesis import strategies as st

from tests.site_files import alias_bomb  # noqa: F401
from tests.site_files import nested  # noqa: F401

FUZZ = hypothesis.settings(
    max_examples=int(os.environ.get('STRATUSLAB_FUZZ_EXAMPLES', '40')),
    deadline=None, database=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow,
                           hypothesis.HealthCheck.data_too_large])

# Memory a parse may take: this many times its input, plus a fixed slack
# for the interpreter's own caches (regular expressions, codecs).
MEMORY_FACTOR = 64
MEMORY_SLACK = 2 * 1024 * 1024

# Characters that broke or nearly broke the parsers: non-ASCII digits
# (str.isdigit() and float() take some), separators of the formats,
# letters of nan, inf and exponents, markup.
HOSTILE_CHARACTERS = ('0123456789²³¹١٣۴०０߀', '-:T Z+./;#,',
                      'eEnaNifI_', '<>&"\'[]{}', '\n\t\r\x00\u2028')
# Files are decoded from UTF-8: no lone surrogates in them.
hostile_text = st.text(
    alphabet=st.one_of(st.sampled_from(''.join(HOSTILE_CHARACTERS)),
                       st.characters(exclude_categories=['Cs'])),
    max_size=40)
# Hints and extra specs come from JSON bodies, where "\ud800" is valid.
request_text = st.one_of(
    hostile_text, st.text(alphabet=st.characters(), max_size=5))

# What a number or a date may be written as, good or bad.
numbers_as_text = st.one_of(
    st.integers(-10 ** 12, 10 ** 12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(1, 500).map(lambda n: '9' * n),
    st.sampled_from(['nan', 'inf', '-inf', '1e999', '1e308', '0', '-0',
                     '12.5', '.5', '12.', '１２', '١٢', '²', '1_000',
                     ' 15 ', '0x10', '']),
    hostile_text)

dates_as_text = st.one_of(
    st.datetimes(timezones=st.none() | st.timezones()).map(
        lambda d: d.isoformat()),
    st.integers(0, 10 ** 11 - 1).map(str),
    st.sampled_from(['2026-03-0²T08:00Z', '0001-01-01T00:00:00+01:00',
                     '9999-12-31T23:59:59-23:59', '2026-02-30T00:00Z']),
    numbers_as_text)

# JSON values of any shape, small.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12)


def peak_memory(func, *args):
    """Return ``(result or exception, peak bytes)`` of ``func(*args)``.

    The exception is returned, not raised, so that the caller checks
    both what escaped and what it cost.
    """
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        try:
            outcome = func(*args)
        except Exception as exc:
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def input_size(value):
    """Bytes of ``value`` (any picklable input), what a parse may scale to.

    Pickled, so that huge integers and lone surrogates, which ``repr``
    and UTF-8 refuse, are measured too.
    """
    return len(pickle.dumps(value))


def assert_bounded(test, func, *args, documented=(), size=None):
    """Assert ``func(*args)`` raises only ``documented``, in bounded memory.

    The bound is ``MEMORY_FACTOR`` times the arguments' size (or
    ``size``), plus ``MEMORY_SLACK``.

    :returns: the result, or the documented exception.
    """
    outcome, peak = peak_memory(func, *args)
    if isinstance(outcome, Exception) and not isinstance(outcome,
                                                         documented):
        raise outcome
    if size is None:
        size = input_size(args)
    test.assertLessEqual(peak, MEMORY_FACTOR * size + MEMORY_SLACK,
                         '%s of %d bytes took %d bytes'
                         % (getattr(func, '__name__', func), size, peak))
    return outcome


def assert_contained(test, func, text, *documented):
    """Assert ``func(text)`` raises only ``documented``, in bounded memory.

    :returns: the result, or the documented exception.
    """
    size = len(text.encode('utf-8', 'surrogatepass')) if isinstance(
        text, str) else len(str(text))
    return assert_bounded(test, func, text, documented=documented,
                          size=size)

"""JSON documents from elsewhere, parsed with bounds and one meaning.

``json.loads`` accepts what a signed or remote document must not carry:
a key given twice in one object (the last wins in Python, the first in
other parsers, so the same signed bytes read differently to different
consumers), ``NaN`` and ``Infinity`` (not JSON), integer literals of any
length (Python refuses past 4300 digits with a ``ValueError`` about
string conversion), and nesting deep enough to exhaust the recursion
limit. :func:`loads` refuses each of them as :class:`InvalidInput`,
naming the document and the place in it, and nothing else escapes.

Example::

    loads(b'{"a": 1, "a": 2}', 'image list x')
    # InvalidInput: image list x, field a: the key appears more than once...
"""

import json

from stratuslab_plugins.appliance import exceptions


class _Object(dict):
    """A JSON object that remembers the keys it was given more than once."""

    duplicates = ()


def _object(pairs):
    mapping = _Object(pairs)
    if len(mapping) != len(pairs):
        seen = set()
        mapping.duplicates = sorted({key for key, _ in pairs
                                     if key in seen or seen.add(key)})
    return mapping


def _constant(name):
    raise ValueError('%s is not a JSON number' % name)


def _path_name(path):
    return 'field %s' % '.'.join(str(part) for part in path)


def _check_shape(document, source, max_depth, name):
    """Refuse repeated keys and deep nesting, naming where they are."""
    stack = [(document, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > max_depth:
            raise exceptions.InvalidInput(
                '%s, %s: nested deeper than %d levels.'
                % (source, name(path[:max_depth]), max_depth))
        if isinstance(value, dict):
            if value.duplicates:
                raise exceptions.InvalidInput(
                    '%s, %s: the key appears more than once in one object; '
                    'parsers disagree on which one counts, so the document '
                    'is refused.'
                    % (source, name(path + (value.duplicates[0],))))
            items = list(value.items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        else:
            continue
        stack.extend((item, path + (key,)) for key, item in reversed(items))


def loads(content, source, max_depth=32, max_digits=20, name=_path_name):
    """Parse JSON ``content`` strictly (module docstring).

    :param content: bytes or text.
    :param source: what the document is, for messages.
    :param max_depth: deepest nesting of objects and lists accepted.
    :param max_digits: longest integer literal accepted.
    :param name: turns a path (keys and indices) into words for messages.
    :raises InvalidInput: naming ``source`` and the place of the fault.
    """
    def integer(text):
        digits = len(text.lstrip('-'))
        if digits > max_digits:
            raise ValueError('an integer of %d digits (at most %d are read)'
                             % (digits, max_digits))
        return int(text)

    try:
        document = json.loads(content, object_pairs_hook=_object,
                              parse_int=integer, parse_constant=_constant)
    except RecursionError:
        raise exceptions.InvalidInput(
            '%s is nested deeper than %d levels.'
            % (source, max_depth)) from None
    except (ValueError, TypeError) as error:
        raise exceptions.InvalidInput(
            '%s is not JSON: %s.' % (source, str(error)[:200])) from None
    _check_shape(document, source, max_depth, name)
    return document

"""JSON and YAML site files, read within bounds.

The downtime file, the batch status file and the VO mapping file are
written by other tools and may be truncated, corrupted or hostile. Their
size is capped before they are read (see ``watched_file``); this module
bounds what parsing them may cost and turns every parser failure into
one :class:`~stratuslab_plugins.grid.exceptions.SourceFileError` naming
the file:

* JSON: a document nested deeper than the interpreter's recursion limit
  (``[[[[...]]]]``) is refused, not a ``RecursionError``;
* YAML: explicit tags (``!!int``, ``!!python/object``...) are refused:
  site files need none, and PyYAML's constructors answer a bad tagged
  value with whatever Python raised (``AttributeError``, ``IndexError``);
  a plain value its constructors cannot build (``2026-13-01``, a
  5000-digit integer) is refused, not a ``ValueError``; aliases
  (``*name``) are refused, because a few hundred bytes of
  aliases and merge keys make PyYAML build exponentially large mappings
  (minutes of CPU for a 400-byte file); nesting deeper than
  :data:`MAX_YAML_DEPTH` is refused before PyYAML's recursive composer
  meets it. The file is checked event by event, then loaded, both with
  libyaml when PyYAML has it.

A file that is valid JSON is read as JSON (a hundred times faster than
YAML), anything else as YAML::

    content = structured.load_json_or_yaml('/run/batch.json', text)
"""

import json

import yaml

from stratuslab_plugins.grid import exceptions

#: The deepest nesting a YAML site file may have (they need three levels).
MAX_YAML_DEPTH = 32

_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
_OPENING = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSING = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def load_json(path, text):
    """Return the JSON document ``text``.

    :raises SourceFileError: not JSON, or nested too deeply.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise exceptions.SourceFileError(
            path, 'is JSON nested too deeply to be a site file')
    except ValueError as exc:
        raise exceptions.SourceFileError(path, 'is not valid JSON (%s)' % exc)


def _check_yaml_events(path, text):
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            raise exceptions.SourceFileError(
                path, 'uses a YAML alias (*), refused in site files')
        if getattr(event, 'tag', None) is not None:
            raise exceptions.SourceFileError(
                path, 'uses a YAML tag (%s), refused in site files'
                % exceptions.describe(event.tag))
        if isinstance(event, _OPENING):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise exceptions.SourceFileError(
                    path, 'is nested more than %d levels deep'
                    % MAX_YAML_DEPTH)
        elif isinstance(event, _CLOSING):
            depth -= 1


def load_yaml(path, text):
    """Return the YAML document ``text`` (safe types only, no aliases).

    :raises SourceFileError: not YAML, an alias, a tag, nested too
        deeply, or a value of an impossible date or size.
    """
    try:
        _check_yaml_events(path, text)
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise exceptions.SourceFileError(
            path, 'is neither JSON nor YAML (%s)' % _first_line(exc))
    # PyYAML's constructors let Python's own errors out for values its
    # resolver matched: 2026-13-01 (a date), a 5000-digit integer.
    except (ValueError, TypeError, OverflowError) as exc:
        raise exceptions.SourceFileError(
            path, 'holds a value YAML cannot read (%s)'
            % str(exc).split('\n', 1)[0][:200])


def load_json_or_yaml(path, text):
    """Return ``text`` read as JSON when it is JSON, else as YAML."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return load_yaml(path, text)


def _first_line(exc):
    # PyYAML's messages quote the offending line with a caret under it:
    # the first line says what is wrong, the mark where.
    mark = getattr(exc, 'problem_mark', None)
    problem = getattr(exc, 'problem', None) or str(exc).split('\n', 1)[0]
    if mark is not None:
        return '%s, line %d column %d' % (problem, mark.line + 1,
                                          mark.column + 1)
    return problem

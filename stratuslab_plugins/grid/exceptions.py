"""The grid pillar's exceptions: one hierarchy, messages naming the input.

Policy code raises these for input an operator wrote (mapping files,
downtime files, status files); the scheduler adapters catch them and turn
them into one warning, never into an exception out of ``host_passes``.
"""

# How much of a bad value an error message quotes.
_QUOTED = 64


def describe(value):
    """Return a short printable account of ``value`` for a message.

    A hint, a file entry or a metadata value may be long or a deep
    structure: messages quote at most a few dozen characters of a string
    and name the type of anything else, so a warning never costs more
    than a line (nor the time and memory of printing a huge value).
    """
    if isinstance(value, str):
        if len(value) <= _QUOTED:
            return repr(value)
        return '%r... (%d characters)' % (value[:_QUOTED], len(value))
    if value is None or isinstance(value, (bool, float)):
        return repr(value)
    if isinstance(value, int):
        return repr(value) if value.bit_length() < 64 else 'a huge integer'
    # Nova's objects hand subclasses (CoercedList, CoercedDict).
    for kind, name in ((list, 'list'), (tuple, 'list'), (dict, 'dict')):
        if isinstance(value, kind):
            return 'a %s' % name
    return 'a %s' % type(value).__name__


def describe_name(value):
    """Return a name as it is when short and printable, else described."""
    if isinstance(value, str) and len(value) <= _QUOTED \
            and value.isprintable():
        return value
    return describe(value)


class GridError(Exception):
    """Base of every error of the grid pillar."""


class VOMappingFileError(GridError):
    """The VO mapping file cannot be used."""

    def __init__(self, path, problem):
        self.path = path
        super().__init__(
            'VO mapping file %s %s; fix it or unset [grid] vo_mapping_file'
            % (path, problem))


class MetadataValueError(GridError):
    """An aggregate metadata or extra-spec value cannot be parsed."""

    def __init__(self, key, value, expected):
        self.key = key
        self.value = value
        super().__init__('%s=%s is not %s' % (key, describe(value), expected))


class SourceFileError(GridError):
    """A downtime or partition status file cannot be used."""

    def __init__(self, path, problem):
        self.path = path
        self.problem = problem
        super().__init__('%s %s' % (path, problem))

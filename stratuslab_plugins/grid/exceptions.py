"""The grid pillar's exceptions: one hierarchy, messages naming the input.

Policy code raises these for input an operator wrote (mapping files,
downtime files, status files); the scheduler adapters catch them and turn
them into one warning, never into an exception out of ``host_passes``.
"""


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
        super().__init__('%s=%r is not %s' % (key, value, expected))


class SourceFileError(GridError):
    """A downtime or partition status file cannot be used."""

    def __init__(self, path, problem):
        self.path = path
        super().__init__('%s %s' % (path, problem))

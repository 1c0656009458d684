"""Appliance subscriptions: which appliances each VO wants in Glance.

A site subscribes each VO it supports to one or more sources of endorsed
appliances, and says how the sync job (``stratuslab-appliance-sync``,
``openstack appliance subscription sync``) puts them into Glance. The
subscriptions file is YAML (sample: ``etc/appliance-subscriptions.yaml.
sample``)::

    defaults:                      # optional, inherited by every VO
      ca_path: /etc/grid-security/certificates
      trust_policy: /etc/stratuslab/appliance-trust.yaml
      tag: stratuslab-sync
    vos:
      vo.example.org:
        sources:
          - image_list: https://lists.example.org/vo.example.org.list
          - image_list: /var/lib/stratuslab/extra.list
          - registry: https://registry.example.org
            project: vo.example.org
            tags: "*"              # fnmatch pattern on the tags
        projects: [PROJECT_ID, ...]  # absent: the VO map's projects
        visibility: shared
        disk_formats: [qcow2, raw]
        mode: location             # or import, with store: NAME
        on_replace: retire         # or hide
        grace_period: 72           # hours before retired images go
        adopt:                     # plain HTTPS files of image lists
          registry: https://registry.example.org
          repository: adopted/vo.example.org
          ca_file: /etc/ssl/certs/ca-certificates.crt   # optional

Reading validates every setting and names the file, the VO and the key
that is wrong; nothing here touches the network or Glance.
"""

import dataclasses
import fnmatch
import os

import yaml

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import identifiers
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance import trust

DEFAULT_TAG = 'stratuslab-sync'
DEFAULT_CA_PATH = '/etc/grid-security/certificates'
DEFAULT_GRACE_HOURS = 72
MODES = ('location', 'import')
VISIBILITIES = ('shared', 'private', 'community', 'public')
ON_REPLACE = ('retire', 'hide')
#: What ``disk_formats`` may list: Glance's disk formats, and ``ova``
#: (an OVA appliance, whatever its disk).
FILE_FORMATS = model.DISK_FORMATS + ('ova',)

_SUBSCRIPTION_KEYS = ('sources', 'ca_path', 'trust_policy', 'projects',
                      'visibility', 'disk_formats', 'tag', 'mode', 'store',
                      'on_replace', 'grace_period', 'adopt')
_ADOPT_KEYS = ('registry', 'repository', 'ca_file')
_SOURCE_KEYS = {'image_list': (), 'registry': ('project', 'tags')}


@dataclasses.dataclass(frozen=True)
class Source:
    """One place a VO's endorsed appliances are read from.

    :param kind: ``image_list`` (a signed HEPiX list) or ``registry`` (an
        OCI registry project).
    :param location: the list's URL or path, or the registry's URL.
    :param project: the registry project (repository prefix).
    :param tags: fnmatch pattern selecting the project's tags.
    """

    kind: str
    location: str
    project: str = None
    tags: str = '*'

    @property
    def label(self):
        """How reports name this source."""
        if self.kind == 'registry':
            return '%s project %s (tags %s)' % (self.location, self.project,
                                                self.tags)
        return 'image list %s' % self.location

    @property
    def is_url(self):
        return self.location.startswith(('http://', 'https://'))

    def wants_tag(self, tag):
        return fnmatch.fnmatchcase(tag, self.tags)


@dataclasses.dataclass(frozen=True)
class Adoption:
    """Where a VO's appliances published as plain files are adopted.

    :param registry: URL of the site's registry (the sync pushes with the
        credentials of ``[appliance] registry_url`` when it is that one).
    :param repository: the repository they are pushed to.
    :param ca_file: CA bundle of the file servers; None for the system's.
    """

    registry: str
    repository: str
    ca_file: str = None


@dataclasses.dataclass
class Subscription:
    """What one VO wants in Glance (see the module docstring)."""

    vo: str
    sources: list
    ca_path: str = DEFAULT_CA_PATH
    policy: trust.TrustPolicy = dataclasses.field(
        default_factory=trust.TrustPolicy)
    projects: list = None
    visibility: str = 'shared'
    disk_formats: tuple = ()
    tag: str = DEFAULT_TAG
    mode: str = 'location'
    store: str = None
    on_replace: str = 'retire'
    grace_period: int = DEFAULT_GRACE_HOURS
    adopt: Adoption = None

    def accepts_format(self, file_format):
        """True if ``file_format`` (a disk format, or ``ova``) is wanted."""
        return not self.disk_formats or file_format in self.disk_formats

    def target_projects(self, vo_map=None):
        """Return the sorted projects to share with.

        :param vo_map: a :class:`stratuslab_plugins.grid.vo_map.VOMap`,
            asked when the subscription lists no project.
        """
        if self.projects is not None:
            return sorted(set(self.projects))
        if vo_map is None:
            return []
        return sorted(vo_map.projects_for_vo(self.vo))


class _Reader:
    """Validates one file's content; every message names file and key."""

    def __init__(self, path):
        self.path = path

    def fail(self, where, problem):
        raise exceptions.InvalidInput(
            'Subscriptions file %s, %s: %s.' % (self.path, where, problem))

    def string(self, value, where):
        if not isinstance(value, str) or not value.strip():
            self.fail(where, 'must be a non-empty string, not %r' % (value,))
        return value.strip()

    def strings(self, value, where):
        if not isinstance(value, list):
            self.fail(where, 'must be a list of strings, not %r' % (value,))
        return [self.string(item, where) for item in value]

    def choice(self, value, choices, where):
        if value not in choices:
            self.fail(where, '%r is not one of %s'
                      % (value, ', '.join(choices)))
        return value

    def source(self, data, where):
        if not isinstance(data, dict):
            self.fail(where, 'a source is a mapping with image_list or '
                      'registry, not %r' % (data,))
        kinds = [kind for kind in _SOURCE_KEYS if kind in data]
        if len(kinds) != 1:
            self.fail(where, 'a source names exactly one of image_list '
                      '(URL or path) and registry (URL)')
        kind = kinds[0]
        unknown = set(data) - {kind} - set(_SOURCE_KEYS[kind])
        if unknown:
            self.fail(where, 'unknown keys %s for a %s source'
                      % (', '.join(sorted(unknown)), kind))
        location = self.string(data[kind], '%s.%s' % (where, kind))
        if kind == 'image_list':
            return Source(kind, location)
        try:
            location = registry.check_registry_url(location)
        except exceptions.InvalidInput as error:
            self.fail(where + '.registry', str(error).rstrip('.'))
        return Source(kind, location,
                      project=self.string(data.get('project'),
                                          where + '.project').strip('/'),
                      tags=self.string(data.get('tags', '*'),
                                       where + '.tags'))

    def adoption(self, data, where):
        if not isinstance(data, dict) or set(data) - set(_ADOPT_KEYS):
            self.fail(where, 'a mapping of registry, repository and '
                      'optionally ca_file, not %r' % (data,))
        try:
            url = registry.check_registry_url(
                self.string(data.get('registry'), where + '.registry'))
            repository = identifiers.check_repository(self.string(
                data.get('repository'), where + '.repository'))
        except exceptions.InvalidInput as error:
            self.fail(where, str(error).rstrip('.'))
        ca_file = data.get('ca_file')
        return Adoption(url, repository, ca_file and self.string(
            ca_file, where + '.ca_file'))

    def policy(self, value, where):
        if isinstance(value, dict):
            return trust.TrustPolicy.from_dict(
                value, source='%s in subscriptions file %s'
                % (where, self.path))
        path = self.string(value, where)
        if not os.path.isabs(path):
            path = os.path.join(os.path.dirname(self.path), path)
        return trust.TrustPolicy.load(path)

    def subscription(self, vo, data, defaults):
        where = 'VO %s' % vo
        if not isinstance(data, dict):
            self.fail(where, 'must be a mapping of settings')
        unknown = set(data) - set(_SUBSCRIPTION_KEYS)
        if unknown:
            self.fail(where, 'unknown keys %s; known: %s'
                      % (', '.join(sorted(unknown)),
                         ', '.join(_SUBSCRIPTION_KEYS)))
        settings = dict(defaults, **data)
        sources = settings.get('sources')
        if not isinstance(sources, list) or not sources:
            self.fail(where + '.sources', 'list at least one source')
        fields = {'vo': vo, 'sources': [
            self.source(item, '%s.sources[%d]' % (where, index))
            for index, item in enumerate(sources)]}
        if 'ca_path' in settings:
            fields['ca_path'] = self.string(settings['ca_path'],
                                            where + '.ca_path')
        if 'trust_policy' in settings:
            fields['policy'] = self.policy(settings['trust_policy'],
                                           where + '.trust_policy')
        if settings.get('projects') is not None:
            fields['projects'] = self.strings(settings['projects'],
                                              where + '.projects')
        for key, choices in (('visibility', VISIBILITIES), ('mode', MODES),
                             ('on_replace', ON_REPLACE)):
            if key in settings:
                fields[key] = self.choice(settings[key], choices,
                                          '%s.%s' % (where, key))
        if 'disk_formats' in settings:
            formats = self.strings(settings['disk_formats'],
                                   where + '.disk_formats')
            for name in formats:
                self.choice(name, FILE_FORMATS, where + '.disk_formats')
            fields['disk_formats'] = tuple(formats)
        for key in ('tag', 'store'):
            if settings.get(key) is not None:
                fields[key] = self.string(settings[key],
                                          '%s.%s' % (where, key))
        if 'grace_period' in settings:
            hours = settings['grace_period']
            if isinstance(hours, bool) or not isinstance(hours, int) \
                    or hours < 0:
                self.fail(where + '.grace_period',
                          'must be a whole number of hours >= 0, not %r'
                          % (hours,))
            fields['grace_period'] = hours
        if settings.get('adopt') is not None:
            fields['adopt'] = self.adoption(settings['adopt'],
                                            where + '.adopt')
        if fields.get('mode') == 'import' and not fields.get('store'):
            self.fail(where, 'mode import copies into a Glance store: name '
                      'it with store')
        if fields.get('visibility', 'shared') != 'shared' and \
                fields.get('projects'):
            self.fail(where, 'projects are only shared with when visibility '
                      'is shared')
        return Subscription(**fields)


def parse(data, path='(memory)'):
    """Return ``{vo: Subscription}`` from the parsed YAML of a file."""
    reader = _Reader(path)
    if not isinstance(data, dict) or not isinstance(data.get('vos'), dict):
        reader.fail('top level', 'expected a mapping with a "vos" mapping '
                    'of VO names to subscriptions')
    unknown = set(data) - {'vos', 'defaults'}
    if unknown:
        reader.fail('top level', 'unknown keys %s; known: defaults, vos'
                    % ', '.join(sorted(unknown)))
    defaults = data.get('defaults') or {}
    if not isinstance(defaults, dict) or set(defaults) - set(
            _SUBSCRIPTION_KEYS):
        reader.fail('defaults', 'must be a mapping of the per-VO keys %s'
                    % ', '.join(_SUBSCRIPTION_KEYS))
    return {str(vo): reader.subscription(str(vo), settings or {}, defaults)
            for vo, settings in data['vos'].items()}


def load(path):
    """Read the subscriptions file at ``path``; see :func:`parse`."""
    try:
        with open(path, 'rb') as stream:
            data = yaml.safe_load(stream)
    except OSError as error:
        raise exceptions.InvalidInput(
            'Cannot read subscriptions file %s: %s; set [sync] '
            'subscriptions_file.' % (path, error.strerror)) from None
    except yaml.YAMLError as error:
        raise exceptions.InvalidInput(
            'Subscriptions file %s is not valid YAML: %s.'
            % (path, error)) from None
    return parse(data, path)


def select(subscriptions, vos=None):
    """Return the subscriptions of ``vos`` (all when empty), in VO order.

    :raises InvalidInput: naming a VO the file does not subscribe.
    """
    unknown = sorted(set(vos or ()) - set(subscriptions))
    if unknown:
        raise exceptions.InvalidInput(
            'No subscription for VO %s; the file subscribes %s.'
            % (', '.join(unknown), ', '.join(sorted(subscriptions))
               or 'no VO'))
    return [subscriptions[vo] for vo in sorted(subscriptions)
            if not vos or vo in vos]

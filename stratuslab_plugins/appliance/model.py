"""The virtual appliance: one disk image and everything a site checks.

An :class:`Appliance` is what an endorser vouches for and a site decides
to run: identity (identifier, title, version), content (disk and
container format, size, SHA-512 mandatory, SHA-256 = its OCI digest,
the StratusLab identifier from its SHA-1), requirements (OS family and
distribution, architecture, minimum RAM and cores), audience (VOs),
endorsement (endorser, created, expires), life cycle (deprecation,
replaces / replaced-by), where it can be fetched and the Glance
properties (``org.openstack.glance.*``) sites put on their copy.

The same object is written to, and read back from, both places an
appliance lives: a HEPiX image-list entry (:mod:`.hepix`, in AppDB's
spelling) and OCI annotations (:meth:`Appliance.to_annotations`,
:meth:`Appliance.from_manifest`). Reading validates every field,
because both come from remote documents.

Formats are Glance's: ``disk_format`` is the disk (qcow2, raw, vmdk...)
and ``container_format`` what wraps it, ``bare`` or ``ova`` (a tar of an
OVF descriptor and its disks; Glance refuses ``ova`` as a disk format).
``os`` is the distribution under Glance's ``os_distro`` name
(:mod:`.distros`), ``os_family`` the family (``Linux``).
"""

import dataclasses
import datetime
import re

from stratuslab_plugins.appliance import distros
from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hashing
from stratuslab_plugins.appliance import identifiers

GLANCE_PREFIX = 'org.openstack.glance.'
# Our own manifest annotations; EGI's live on the layer (see registry).
ANNOTATION_PREFIX = 'eu.stratuslab.appliance.'

# Media types of the single layer, by disk format (by container format
# for an OVA). EGI pushes qcow2 as application/x-qemu-disk; for the
# others we use the types shared-mime-info registers, and a plain octet
# stream when there is none.
LAYER_MEDIA_TYPES = {
    'qcow2': 'application/x-qemu-disk',
    'raw': 'application/x-raw-disk-image',
    'iso': 'application/x-cd-image',
    'vmdk': 'application/x-vmdk-disk',
    'vdi': 'application/x-virtualbox-vdi',
    'vhd': 'application/x-virtualbox-vhd',
    'vhdx': 'application/x-virtualbox-vhdx',
    'ova': 'application/x-virtualbox-ova',
}
DEFAULT_MEDIA_TYPE = 'application/octet-stream'
#: Glance's disk formats.
DISK_FORMATS = ('qcow2', 'raw', 'iso', 'vmdk', 'vdi', 'vhd', 'vhdx', 'ami',
                'ploop')
#: Glance's container formats an appliance may have.
CONTAINER_FORMATS = ('bare', 'ova')
#: The disk inside an OVA when nothing says otherwise (what OVF tools,
#: and atrope, assume).
OVA_DISK_FORMAT = 'vmdk'
#: Dates outside these years are refused: nothing we read is older, and
#: converting later ones to UTC can overflow.
YEARS = (1970, 9998)
_DATE_RE = re.compile(r'\A[0-9T:.+\- Z]{8,40}\Z')


def now():
    """Return the current UTC time, to the second."""
    return datetime.datetime.now(datetime.timezone.utc).replace(
        microsecond=0)


def format_time(value):
    """Return ``value`` as the ISO 8601 UTC text HEPiX lists use."""
    if value is None:
        return None
    return value.astimezone(datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%SZ')


def parse_time(text, field):
    """Return the aware datetime written in ``text`` (ISO 8601).

    Only ASCII ISO 8601 text, years within :data:`YEARS`, is accepted:
    anything else (a number, another script's digits, year 1 with an
    offset, which overflows in UTC) is refused as :class:`InvalidInput`.
    """
    if text is None or text == '':
        return None
    problem = ('%s %s is not an ISO 8601 date such as 2026-01-31T12:00:00Z.'
               % (field, repr(text)[:80]))
    if not isinstance(text, str) or not _DATE_RE.match(text):
        raise exceptions.InvalidInput(problem)
    try:
        value = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        raise exceptions.InvalidInput(problem) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise exceptions.InvalidInput(
            '%s %s is not between the years %d and %d.'
            % (field, text, YEARS[0], YEARS[1]))
    return value


def glance_formats(disk_format, container_format=None, ova_disk=None):
    """Return ``(disk_format, container_format)`` as Glance has them.

    ``ova`` named as a disk format (HEPiX's ``hv:format``, which has one
    field for both, and manifests written before the container format
    was kept) is the container of an ``ova_disk`` disk, vmdk by default.
    Names are compared in any case (AppDB writes ``"QCOW2"``).
    """
    disk = (disk_format or 'qcow2').lower()
    container = (container_format or 'bare').lower()
    if disk == 'ova':
        disk, container = (ova_disk or OVA_DISK_FORMAT).lower(), 'ova'
    return disk, container


def _int(value, field, minimum=0):
    if value is None or value == '':
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise exceptions.InvalidInput(
            '%s %s is not an integer.' % (field, repr(value)[:80])) from None
    if number < minimum:
        raise exceptions.InvalidInput(
            '%s %r is below %d.' % (field, value, minimum))
    return number


def _list(value):
    if value in (None, ''):
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(',') if item.strip()]
    return [str(item) for item in value]


@dataclasses.dataclass
class Endorser:
    """The person vouching for appliances, as their certificate names them.

    :param dn: subject DN of the endorser's certificate, in the OpenSSL
        one-line form ``/C=EU/O=Example/CN=Jane Doe``.
    :param ca: subject DN of the CA that issued it, same form.
    :param email: the endorser's e-mail address.
    :param name: a display name (``dc:creator``).
    """

    dn: str
    ca: str
    email: str = None
    name: str = None


@dataclasses.dataclass
class Appliance(hashing.DerivedIdentifiers):
    """One endorsed virtual appliance (see the module docstring)."""

    identifier: str
    title: str
    sha512: str
    size: int
    disk_format: str = 'qcow2'
    container_format: str = 'bare'
    description: str = ''
    version: str = None
    sha256: str = None
    sha1: str = None
    os: str = None
    os_family: str = None
    os_version: str = None
    arch: str = None
    hypervisor: str = None
    ram_minimum: int = None
    core_minimum: int = None
    vos: list = dataclasses.field(default_factory=list)
    endorser: Endorser = None
    created: datetime.datetime = None
    expires: datetime.datetime = None
    deprecated: str = None
    replaces: str = None
    replaced_by: str = None
    locations: list = dataclasses.field(default_factory=list)
    glance_properties: dict = dataclasses.field(default_factory=dict)
    #: The marketplace URI (AppDB's ``ad:mpuri``) accounting names it by.
    mpuri: str = None
    #: Fields of the image-list entry the model does not keep (AppDB's
    #: ``ad:group``, ``ad:user:*``, ``sl:comments``...), written back as
    #: they came when the list is re-signed.
    other_fields: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.validate()

    def validate(self):
        """Raise :class:`InvalidInput` naming the first invalid field."""
        identifiers.check_identifier(self.identifier)
        identifiers.check_hex_digest('sha512', self.sha512)
        if self.sha256 is not None:
            identifiers.check_hex_digest('sha256', self.sha256)
        if self.sha1 is not None:
            identifiers.check_hex_digest('sha1', self.sha1)
        for name in ('replaces', 'replaced_by'):
            if getattr(self, name):
                identifiers.check_identifier(getattr(self, name))
        self.size = _int(self.size, 'size of appliance %s' % self.identifier)
        if self.size is None:
            raise exceptions.InvalidInput(
                'Appliance %s has no size.' % self.identifier)
        for name, choices in (('disk_format', DISK_FORMATS),
                              ('container_format', CONTAINER_FORMATS)):
            if getattr(self, name) not in choices:
                raise exceptions.InvalidInput(
                    'Appliance %s has %s %s; use one of %s.'
                    % (self.identifier, name.replace('_', ' '),
                       repr(getattr(self, name))[:40], ', '.join(choices)))
        if self.os:
            self.os = distros.os_distro(self.os)
            self.os_family = self.os_family or distros.family(self.os)
        for key in self.glance_properties:
            if not key.startswith(GLANCE_PREFIX):
                raise exceptions.InvalidInput(
                    'Glance property %r of appliance %s does not start with '
                    '%r.' % (key, self.identifier, GLANCE_PREFIX))

    @property
    def media_type(self):
        """The OCI layer media type of this appliance's file."""
        return LAYER_MEDIA_TYPES.get(self.file_extension,
                                     DEFAULT_MEDIA_TYPE)

    @property
    def file_extension(self):
        """The extension of this appliance's file (``qcow2``, ``ova``)."""
        return (self.disk_format if self.container_format == 'bare'
                else self.container_format)

    def is_expired(self, at=None):
        return self.expires is not None and self.expires <= (at or now())

    def with_checksums(self, checksums):
        """Return a copy carrying ``checksums`` (a hashing.Checksums)."""
        return dataclasses.replace(self, size=checksums.size,
                                   sha512=checksums.sha512,
                                   sha256=checksums.sha256,
                                   sha1=checksums.sha1)

    def check_content(self, checksums, source):
        """Raise IntegrityError if ``checksums`` do not match this appliance.

        :param source: what was read (a URL, a file), for the message.
        """
        expected = [('size', self.size, checksums.size),
                    ('sha512', self.sha512, checksums.sha512),
                    ('sha256', self.sha256, checksums.sha256),
                    ('sha1', self.sha1, checksums.sha1)]
        for name, want, got in expected:
            if want is not None and got is not None and want != got:
                raise exceptions.IntegrityError(
                    'Appliance %s: %s of %s is %s but the endorsed value is '
                    '%s; the content was altered or truncated, do not use it.'
                    % (self.identifier, name, source, got, want))

    # -- OCI annotations -----------------------------------------------------

    _ANNOTATED = ('identifier', 'version', 'sha512', 'sha1', 'os',
                  'os_family', 'os_version', 'arch', 'hypervisor',
                  'ram_minimum', 'core_minimum', 'deprecated', 'replaces',
                  'replaced_by', 'disk_format', 'container_format')
    #: Glance properties that are fields of the appliance.
    _FORMATS = (GLANCE_PREFIX + 'disk_format',
                GLANCE_PREFIX + 'container_format')

    def to_annotations(self, file_name=None):
        """Return ``(manifest_annotations, layer_annotations)``.

        The layer carries EGI's annotations (what EGI's tools read); the
        manifest carries the rest of the appliance under
        ``eu.stratuslab.appliance.*`` and the standard OCI keys.
        """
        layer = dict(self.glance_properties)
        layer[GLANCE_PREFIX + 'disk_format'] = self.disk_format
        layer[GLANCE_PREFIX + 'container_format'] = self.container_format
        for key, value in ((GLANCE_PREFIX + 'os_distro', self.os),
                           (GLANCE_PREFIX + 'os_version', self.os_version),
                           (GLANCE_PREFIX + 'architecture', self.arch)):
            if value:
                layer.setdefault(key, value)
        layer['eu.egi.cloud.description'] = self.description or self.title
        if self.version:
            layer['eu.egi.cloud.tag'] = self.version
        layer['org.opencontainers.image.title'] = (
            file_name or '%s.%s' % (self.identifier, self.file_extension))
        manifest = {ANNOTATION_PREFIX + name: str(getattr(self, name))
                    for name in self._ANNOTATED
                    if getattr(self, name) is not None}
        manifest['org.opencontainers.image.title'] = self.title
        manifest['org.opencontainers.image.description'] = (
            self.description or '')
        if self.version:
            manifest['org.opencontainers.image.version'] = self.version
        if self.created:
            manifest['org.opencontainers.image.created'] = format_time(
                self.created)
        if self.expires:
            manifest[ANNOTATION_PREFIX + 'expires'] = format_time(
                self.expires)
        if self.vos:
            manifest[ANNOTATION_PREFIX + 'vos'] = ','.join(self.vos)
        if self.endorser:
            for field in ('dn', 'ca', 'email', 'name'):
                value = getattr(self.endorser, field)
                if value:
                    manifest[ANNOTATION_PREFIX + 'endorser.' + field] = value
        return manifest, layer

    @classmethod
    def from_manifest(cls, manifest, location=None):
        """Build an appliance from an OCI manifest we (or EGI) pushed.

        :param manifest: the parsed manifest (one layer).
        :param location: where the content is, for ``locations``.
        """
        layers = manifest.get('layers') or []
        if len(layers) != 1:
            raise exceptions.InvalidInput(
                'Manifest has %d layers; an appliance has exactly one.'
                % len(layers))
        layer = layers[0]
        notes = manifest.get('annotations') or {}
        layer_notes = layer.get('annotations') or {}

        def ours(name):
            return notes.get(ANNOTATION_PREFIX + name)

        digest = identifiers.check_digest(layer.get('digest'))
        endorser = None
        if ours('endorser.dn'):
            endorser = Endorser(dn=ours('endorser.dn'),
                                ca=ours('endorser.ca'),
                                email=ours('endorser.email'),
                                name=ours('endorser.name'))
        if not ours('sha512'):
            raise exceptions.InvalidInput(
                'Manifest of %s carries no %ssha512 annotation; it was not '
                'pushed as an appliance.' % (location, ANNOTATION_PREFIX))
        disk_format, container_format = glance_formats(
            ours('disk_format') or layer_notes.get(
                GLANCE_PREFIX + 'disk_format'),
            ours('container_format') or layer_notes.get(
                GLANCE_PREFIX + 'container_format'))
        return cls(
            identifier=ours('identifier') or ours('sha1') and
            identifiers.stratuslab_identifier(ours('sha1')),
            title=notes.get('org.opencontainers.image.title') or '',
            description=notes.get(
                'org.opencontainers.image.description',
                layer_notes.get('eu.egi.cloud.description', '')),
            version=ours('version'),
            disk_format=disk_format, container_format=container_format,
            size=layer.get('size'),
            sha512=ours('sha512'),
            sha256=digest.split(':', 1)[1],
            sha1=ours('sha1'),
            os=ours('os'), os_family=ours('os_family'),
            os_version=ours('os_version'), arch=ours('arch'),
            hypervisor=ours('hypervisor'),
            ram_minimum=_int(ours('ram_minimum'), 'ram_minimum'),
            core_minimum=_int(ours('core_minimum'), 'core_minimum'),
            vos=_list(ours('vos')),
            endorser=endorser,
            created=parse_time(notes.get('org.opencontainers.image.created'),
                               'created'),
            expires=parse_time(ours('expires'), 'expires'),
            deprecated=ours('deprecated'),
            replaces=ours('replaces'),
            replaced_by=ours('replaced_by'),
            locations=[location] if location else [],
            glance_properties={k: v for k, v in layer_notes.items()
                               if k.startswith(GLANCE_PREFIX)
                               and k not in cls._FORMATS})


def new_appliance(checksums, title, **fields):
    """Return an appliance for content with ``checksums``, fresh identifier.

    :param checksums: the :class:`hashing.Checksums` of the content.
    :param fields: any other :class:`Appliance` field.
    """
    fields.setdefault('identifier', identifiers.new_identifier())
    fields.setdefault('created', now())
    return Appliance(title=title, size=checksums.size,
                     sha512=checksums.sha512, sha256=checksums.sha256,
                     sha1=checksums.sha1, **fields)

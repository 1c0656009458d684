"""The virtual appliance: one disk image and everything a site checks.

An :class:`Appliance` is what an endorser vouches for and a site decides
to run: identity (identifier, title, version), content (format, size,
SHA-512 mandatory, SHA-256 = its OCI digest, the StratusLab identifier
from its SHA-1), requirements (OS, architecture, minimum RAM and cores),
audience (VOs), endorsement (endorser, created, expires), life cycle
(deprecation, replaces / replaced-by), where it can be fetched and the
Glance properties (``org.openstack.glance.*``) sites put on their copy.

The same object is written to, and read back from, both places an
appliance lives: a HEPiX image-list entry (:meth:`Appliance.to_entry`,
:meth:`Appliance.from_entry`) and OCI annotations
(:meth:`Appliance.to_annotations`, :meth:`Appliance.from_manifest`).
Reading validates every field, because both come from remote documents.
"""

import dataclasses
import datetime

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hashing
from stratuslab_plugins.appliance import identifiers

GLANCE_PREFIX = 'org.openstack.glance.'
# Our own manifest annotations; EGI's live on the layer (see registry).
ANNOTATION_PREFIX = 'eu.stratuslab.appliance.'

# Media types of the single layer, by disk format. EGI pushes qcow2 as
# application/x-qemu-disk; for the others we use the types shared-mime-info
# registers, and a plain octet stream when there is none.
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
DISK_FORMATS = tuple(LAYER_MEDIA_TYPES) + ('ami', 'ploop')


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
    """Return the aware datetime written in ``text`` (ISO 8601)."""
    if text is None or text == '':
        return None
    try:
        value = datetime.datetime.fromisoformat(str(text).replace('Z',
                                                                  '+00:00'))
    except ValueError:
        raise exceptions.InvalidInput(
            '%s %r is not an ISO 8601 date such as 2026-01-31T12:00:00Z.'
            % (field, text)) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def _int(value, field, minimum=0):
    if value is None or value == '':
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise exceptions.InvalidInput(
            '%s %r is not an integer.' % (field, value)) from None
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

    def to_hepix(self):
        return {'hv:x509': {'dc:creator': self.name or '',
                            'hv:dn': self.dn, 'hv:ca': self.ca,
                            'hv:email': self.email or ''}}

    @classmethod
    def from_hepix(cls, data):
        x509 = (data or {}).get('hv:x509') or {}
        if not x509.get('hv:dn') or not x509.get('hv:ca'):
            raise exceptions.InvalidInput(
                'hv:endorser has no hv:x509 hv:dn and hv:ca; the image list '
                'cannot say who endorsed it.')
        return cls(dn=x509['hv:dn'], ca=x509['hv:ca'],
                   email=x509.get('hv:email') or None,
                   name=x509.get('dc:creator') or None)


@dataclasses.dataclass
class Appliance(hashing.DerivedIdentifiers):
    """One endorsed virtual appliance (see the module docstring)."""

    identifier: str
    title: str
    sha512: str
    size: int
    disk_format: str = 'qcow2'
    description: str = ''
    version: str = None
    sha256: str = None
    sha1: str = None
    os: str = None
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
        if self.disk_format not in DISK_FORMATS:
            raise exceptions.InvalidInput(
                'Appliance %s has disk format %r; use one of %s.'
                % (self.identifier, self.disk_format,
                   ', '.join(DISK_FORMATS)))
        for key in self.glance_properties:
            if not key.startswith(GLANCE_PREFIX):
                raise exceptions.InvalidInput(
                    'Glance property %r of appliance %s does not start with '
                    '%r.' % (key, self.identifier, GLANCE_PREFIX))

    @property
    def media_type(self):
        """The OCI layer media type for this appliance's disk format."""
        return LAYER_MEDIA_TYPES.get(self.disk_format, DEFAULT_MEDIA_TYPE)

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

    # -- HEPiX image-list entries ------------------------------------------

    def to_entry(self):
        """Return the ``{"hv:image": {...}}`` entry of this appliance."""
        image = {
            'dc:identifier': self.identifier,
            'dc:title': self.title,
            'dc:description': self.description or '',
            'dc:date:created': format_time(self.created),
            'dc:date:expires': format_time(self.expires),
            'hv:uri': self.locations[0] if self.locations else '',
            'hv:size': self.size,
            'sl:checksum:sha512': self.sha512,
            'sl:checksum:sha256': self.sha256,
            'sl:checksum:sha1': self.sha1,
            'sl:identifier': self.stratuslab_id,
            'hv:format': self.disk_format,
            'hv:hypervisor': self.hypervisor,
            'hv:version': self.version,
            'hv:ram_minimum': self.ram_minimum,
            'hv:core_minimum': self.core_minimum,
            'sl:arch': self.arch,
            'sl:os': self.os,
            'sl:osversion': self.os_version,
            'sl:vos': list(self.vos) or None,
            'sl:deprecated': self.deprecated,
            'sl:replaces': self.replaces,
            'sl:replacedby': self.replaced_by,
            'sl:locations': list(self.locations[1:]) or None,
        }
        image.update(self.glance_properties)
        return {'hv:image': {k: v for k, v in image.items()
                             if v is not None}}

    @classmethod
    def from_entry(cls, entry, endorser=None):
        """Build an appliance from an image-list entry, validating it."""
        image = (entry or {}).get('hv:image') if isinstance(entry,
                                                            dict) else None
        if not isinstance(image, dict):
            raise exceptions.InvalidInput(
                'Image-list entry %r is not an {"hv:image": {...}} object.'
                % (str(entry)[:80],))
        name = image.get('dc:identifier')
        if not image.get('sl:checksum:sha512'):
            raise exceptions.InvalidInput(
                'Image-list entry %r has no sl:checksum:sha512; sites cannot '
                'check its content, so it cannot be used.' % (name,))
        uri = image.get('hv:uri')
        return cls(
            identifier=name,
            title=image.get('dc:title') or '',
            description=image.get('dc:description') or '',
            version=image.get('hv:version'),
            disk_format=image.get('hv:format') or 'qcow2',
            size=image.get('hv:size'),
            sha512=image.get('sl:checksum:sha512'),
            sha256=image.get('sl:checksum:sha256'),
            sha1=image.get('sl:checksum:sha1'),
            os=image.get('sl:os'),
            os_version=image.get('sl:osversion'),
            arch=image.get('sl:arch'),
            hypervisor=image.get('hv:hypervisor'),
            ram_minimum=_int(image.get('hv:ram_minimum'), 'hv:ram_minimum'),
            core_minimum=_int(image.get('hv:core_minimum'),
                              'hv:core_minimum'),
            vos=_list(image.get('sl:vos')),
            endorser=endorser,
            created=parse_time(image.get('dc:date:created'),
                               'dc:date:created'),
            expires=parse_time(image.get('dc:date:expires'),
                               'dc:date:expires'),
            deprecated=image.get('sl:deprecated'),
            replaces=image.get('sl:replaces'),
            replaced_by=image.get('sl:replacedby'),
            locations=([uri] if uri else [])
            + _list(image.get('sl:locations')),
            glance_properties={k: str(v) for k, v in image.items()
                               if k.startswith(GLANCE_PREFIX)})

    # -- OCI annotations -----------------------------------------------------

    _ANNOTATED = ('identifier', 'version', 'sha512', 'sha1', 'os',
                  'os_version', 'arch', 'hypervisor', 'ram_minimum',
                  'core_minimum', 'deprecated', 'replaces', 'replaced_by',
                  'disk_format')

    def to_annotations(self, file_name=None):
        """Return ``(manifest_annotations, layer_annotations)``.

        The layer carries EGI's annotations (what EGI's tools read); the
        manifest carries the rest of the appliance under
        ``eu.stratuslab.appliance.*`` and the standard OCI keys.
        """
        layer = dict(self.glance_properties)
        layer.setdefault(GLANCE_PREFIX + 'disk_format', self.disk_format)
        layer.setdefault(GLANCE_PREFIX + 'container_format', 'bare')
        for key, value in ((GLANCE_PREFIX + 'os_distro', self.os),
                           (GLANCE_PREFIX + 'os_version', self.os_version),
                           (GLANCE_PREFIX + 'architecture', self.arch)):
            if value:
                layer.setdefault(key, value)
        layer['eu.egi.cloud.description'] = self.description or self.title
        if self.version:
            layer['eu.egi.cloud.tag'] = self.version
        layer['org.opencontainers.image.title'] = (
            file_name or '%s.%s' % (self.identifier, self.disk_format))
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
        return cls(
            identifier=ours('identifier') or ours('sha1') and
            identifiers.stratuslab_identifier(ours('sha1')),
            title=notes.get('org.opencontainers.image.title') or '',
            description=notes.get(
                'org.opencontainers.image.description',
                layer_notes.get('eu.egi.cloud.description', '')),
            version=ours('version'),
            disk_format=ours('disk_format') or layer_notes.get(
                GLANCE_PREFIX + 'disk_format') or 'qcow2',
            size=layer.get('size'),
            sha512=ours('sha512'),
            sha256=digest.split(':', 1)[1],
            sha1=ours('sha1'),
            os=ours('os'), os_version=ours('os_version'), arch=ours('arch'),
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
                               if k.startswith(GLANCE_PREFIX)})


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

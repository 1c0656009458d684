"""HEPiX image lists as EGI's services write them: read strictly, write alike.

The HEPiX format has no schema, and EGI's AppDB, whose lists every grid
site reads, spells it its own way: formats in capitals (``"QCOW2"``,
``"OVA"``), numbers as strings (``"hv:size": "121243136"``), ``sl:os``
the family (``"Linux"``) and ``sl:osname`` the distribution
(``"Ubuntu"``), optional fields absent. This module reads that spelling
(and ours, and numbers written as numbers), and writes AppDB's, so that
atrope and cloudkeeper read the lists we sign.

Reading is strict, because a list is a remote document and its
signature only says who wrote it, not that it is sane:

* the JSON is parsed once (:func:`loads`), refusing a key given twice in
  one object (two parsers could read a different list from the same
  signed bytes), ``NaN``/``Infinity``, integers of more than
  :data:`MAX_DIGITS` digits and nesting deeper than :data:`MAX_DEPTH`;
* every field the format defines is checked for its type (a string, or a
  whole number given as a number or as ASCII digits), numbers are bounded
  (:data:`MAX_SIZE`, :data:`MAX_RAM`, :data:`MAX_CORES`), dates must be
  ISO 8601 within :data:`model.YEARS`;
* every refusal is one :class:`InvalidInput` naming the list, the entry
  index (and identifier, once known) and the field.

Example::

    document = loads(content, 'image list vo.list')
    fields = read_list(document, 'image list vo.list')
    ubuntu = fields['appliances'][0]
    ubuntu.os            # 'ubuntu', from "sl:osname": "Ubuntu"
    to_entry(ubuntu)     # {"hv:image": {..., "hv:format": "QCOW2"}}
"""

import re

from stratuslab_plugins.appliance import distros
from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import identifiers
from stratuslab_plugins.appliance import json_document
from stratuslab_plugins.appliance import model

#: Deepest nesting accepted. A list needs six levels
#: (``{"hv:imagelist": {"hv:images": [{"hv:image": {"k": v}}]}}``); the
#: rest is room for fields we do not know.
MAX_DEPTH = 16
#: Longest integer literal accepted anywhere in a list.
MAX_DIGITS = 20
#: Bounds of the numbers of an entry: bytes (1 PiB), MiB of RAM
#: (16 TiB) and cores.
MAX_SIZE = 1 << 50
MAX_RAM = 1 << 24
MAX_CORES = 1 << 16
_DIGITS_RE = re.compile(r'\A[0-9]{1,%d}\Z' % MAX_DIGITS)
_GLANCE = model.GLANCE_PREFIX

#: AppDB fields atrope requires in every entry; we write them, empty
#: when we know nothing better, so that atrope reads our lists.
APPDB_REQUIRED = ('ad:group', 'ad:user:fullname', 'ad:user:guid',
                  'ad:user:uri', 'sl:comments')
# Entry fields the model keeps; any other scalar field is carried along
# in ``other_fields``.
ENTRY_FIELDS = frozenset([
    'dc:identifier', 'dc:title', 'dc:description', 'dc:date:created',
    'dc:date:expires', 'ad:mpuri', 'hv:uri', 'hv:size', 'hv:format',
    'hv:hypervisor', 'hv:version', 'hv:ram_minimum', 'hv:core_minimum',
    'sl:arch', 'sl:os', 'sl:osname', 'sl:osversion', 'sl:checksum:sha512',
    'sl:checksum:sha256', 'sl:checksum:sha1', 'sl:identifier', 'sl:vos',
    'sl:deprecated', 'sl:replaces', 'sl:replacedby', 'sl:locations'])


def _shown(value):
    return repr(value)[:80]


def _json_type(value):
    for kind, name in ((bool, 'a boolean'), ((int, float), 'a number'),
                       (str, 'a string'), (list, 'a list'),
                       (dict, 'an object')):
        if isinstance(value, kind):
            return name
    return 'null'


# -- parsing -----------------------------------------------------------------

def where(path):
    """Name a place in a list: ``entry 3, field hv:size`` or ``field X``."""
    path = tuple(str(part) for part in path)
    if path[:2] == ('hv:imagelist', 'hv:images') and len(path) > 2:
        text = 'entry %s' % path[2]
        return text + (', field %s' % '.'.join(path[4:])
                       if len(path) > 4 else '')
    return 'field %s' % '.'.join(path[1:] if path[:1] == ('hv:imagelist',)
                                 else path)


def loads(content, source):
    """Parse the JSON of an image list; see the module docstring.

    :param content: the signed bytes (or text).
    :param source: what the content is (``image list URL``), for messages.
    :raises InvalidInput: naming ``source``, and where in it the fault is.
    """
    return json_document.loads(content, source, max_depth=MAX_DEPTH,
                               max_digits=MAX_DIGITS, name=where)


# -- reading fields ----------------------------------------------------------

class _Fields:
    """Reads one JSON object's fields by type; refusals name the field.

    :param data: the object.
    :param place: where it is (``image list X, entry 3 (ID)``).
    """

    def __init__(self, data, place):
        self.data = data
        self.place = place

    def fail(self, field, problem):
        raise exceptions.InvalidInput('%s, field %s: %s.'
                                      % (self.place, field, problem))

    def _typed(self, field, kinds, what):
        value = self.data.get(field)
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, kinds)):
            self.fail(field, '%s is %s, not %s'
                      % (_shown(value), _json_type(value), what))
        return value

    def text(self, field):
        """A string field; None when absent or null."""
        return self._typed(field, str, 'a string')

    def version(self, field):
        """A string, or a number written as one (``hv:version``)."""
        value = self._typed(field, (str, int), 'a string')
        return None if value is None else str(value)

    def number(self, field, maximum, unit):
        """A whole number, as a JSON number or ASCII digits (AppDB)."""
        value = self._typed(field, (int, str), 'a whole number of ' + unit)
        if value is None or value == '':
            return None
        if isinstance(value, str):
            if not _DIGITS_RE.match(value):
                self.fail(field, '%s is not a whole number of %s'
                          % (_shown(value), unit))
            value = int(value)
        if not 0 <= value <= maximum:
            self.fail(field, '%d is not between 0 and %d %s'
                      % (value, maximum, unit))
        return value

    def checked(self, field, check):
        """A string that ``check`` accepts (it returns the value to keep)."""
        value = self.text(field)
        if value is None or value == '':
            return None
        try:
            return check(value)
        except exceptions.InvalidInput as error:
            self.fail(field, str(error).rstrip('.'))

    def date(self, field):
        return self.checked(field, lambda text: model.parse_time(text,
                                                                 'date'))

    def digest(self, algorithm, field):
        return self.checked(field, lambda text: identifiers.check_hex_digest(
            algorithm, text.lower()))

    def strings(self, field):
        """A list of strings, or one comma-separated string."""
        value = self._typed(field, (str, list), 'a list of strings')
        if isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                self.fail(field, 'must be a list of strings')
            return [item.strip() for item in value if item.strip()]
        return [item.strip() for item in (value or '').split(',')
                if item.strip()]

    def required(self, field, value, why):
        if value is None:
            self.fail(field, 'missing; ' + why)
        return value

    def glance_properties(self):
        """The ``org.openstack.glance.*`` fields, as strings."""
        properties = {}
        for key in self.data:
            if key.startswith(_GLANCE):
                value = self._typed(key, (str, int), 'a string')
                if value is not None:
                    properties[key] = str(value)
        return properties


def endorser(data, place):
    """Return the :class:`model.Endorser` of an ``hv:endorser`` object."""
    x509 = data.get('hv:x509') if isinstance(data, dict) else None
    if not isinstance(x509, dict):
        raise exceptions.InvalidInput(
            '%s, field hv:endorser: not an {"hv:x509": {...}} object; the '
            'image list cannot say who endorsed it.' % place)
    fields = _Fields(x509, place + ', field hv:endorser.hv:x509')
    dn, ca = fields.text('hv:dn'), fields.text('hv:ca')
    if not dn or not ca:
        raise exceptions.InvalidInput(
            '%s, field hv:endorser: no hv:x509 hv:dn and hv:ca; the image '
            'list cannot say who endorsed it.' % place)
    return model.Endorser(dn=dn, ca=ca, email=fields.text('hv:email') or None,
                          name=fields.text('dc:creator') or None)


def endorser_entry(who):
    """Return the ``hv:endorser`` object of an endorser."""
    return {'hv:x509': {'dc:creator': who.name or '', 'hv:dn': who.dn,
                        'hv:ca': who.ca, 'hv:email': who.email or ''}}


def _formats(fields, glance):
    given = fields.text('hv:format')
    disk, container = model.glance_formats(
        given, ova_disk=glance.pop(_GLANCE + 'disk_format', None))
    glance.pop(_GLANCE + 'container_format', None)
    if disk not in model.DISK_FORMATS:
        fields.fail('hv:format' if given and given.lower() != 'ova'
                    else _GLANCE + 'disk_format',
                    '%s is not a format Glance knows; use one of %s, or OVA'
                    % (_shown(given), ', '.join(model.DISK_FORMATS)))
    return disk, container


def _os(fields):
    """``(os_distro, family)`` from ``sl:osname`` and ``sl:os``.

    Our lists before AppDB's spelling put the distribution in ``sl:os``;
    a family-less ``sl:os`` naming one is read as such.
    """
    name, family = fields.text('sl:osname'), fields.text('sl:os')
    if not name and family and not distros.is_family(family):
        name, family = family, None
    return distros.os_distro(name), family or None


def _other_fields(image):
    return {key: value for key, value in image.items()
            if key not in ENTRY_FIELDS and not key.startswith(_GLANCE)
            and isinstance(value, (str, int)) and not isinstance(value, bool)}


def from_entry(entry, endorser_=None, place='image-list entry'):
    """Return the :class:`model.Appliance` of an ``{"hv:image": {...}}``.

    :param endorser_: the list's :class:`model.Endorser`.
    :param place: where the entry is, for messages.
    :raises InvalidInput: naming ``place`` and the field.
    """
    image = entry.get('hv:image') if isinstance(entry, dict) else None
    if not isinstance(image, dict):
        raise exceptions.InvalidInput(
            '%s: not an {"hv:image": {...}} object but %s.'
            % (place, _json_type(entry if image is None else image)))
    fields = _Fields(image, place)
    identifier = fields.required(
        'dc:identifier', fields.checked('dc:identifier',
                                        identifiers.check_identifier),
        'every entry needs one')
    fields.place = '%s (%s)' % (place, identifier)
    sha512 = fields.required(
        'sl:checksum:sha512', fields.digest('sha512', 'sl:checksum:sha512'),
        'sites cannot check its content, so it cannot be used')
    glance = fields.glance_properties()
    disk_format, container_format = _formats(fields, glance)
    os_distro, os_family = _os(fields)
    uri = fields.text('hv:uri')
    values = dict(
        identifier=identifier, title=fields.text('dc:title') or '',
        description=fields.text('dc:description') or '',
        version=fields.version('hv:version') or None,
        disk_format=disk_format, container_format=container_format,
        size=fields.required('hv:size', fields.number(
            'hv:size', MAX_SIZE, 'bytes'), 'its content cannot be '
            'checked without it'),
        sha512=sha512, sha256=fields.digest('sha256',
                                            'sl:checksum:sha256'),
        sha1=fields.digest('sha1', 'sl:checksum:sha1'),
        os=os_distro, os_family=os_family,
        os_version=fields.version('sl:osversion') or None,
        arch=fields.text('sl:arch') or None,
        hypervisor=fields.text('hv:hypervisor') or None,
        ram_minimum=fields.number('hv:ram_minimum', MAX_RAM, 'MiB'),
        core_minimum=fields.number('hv:core_minimum', MAX_CORES,
                                   'cores'),
        vos=fields.strings('sl:vos'), endorser=endorser_,
        created=fields.date('dc:date:created'),
        expires=fields.date('dc:date:expires'),
        deprecated=fields.text('sl:deprecated') or None,
        replaces=fields.checked('sl:replaces',
                                identifiers.check_identifier),
        replaced_by=fields.checked('sl:replacedby',
                                   identifiers.check_identifier),
        locations=([uri] if uri else []) + fields.strings(
            'sl:locations'),
        glance_properties=glance,
        mpuri=fields.text('ad:mpuri') or None,
        other_fields=_other_fields(image))
    try:
        return model.Appliance(**values)
    except exceptions.InvalidInput as error:
        raise exceptions.InvalidInput('%s: %s' % (fields.place,
                                                  error)) from None


def _number_text(value):
    return None if value is None else str(value)


def to_entry(appliance):
    """Return the ``{"hv:image": {...}}`` entry of an appliance.

    In AppDB's spelling: numbers as strings, the format in capitals
    (``OVA`` for an OVA, with ``org.openstack.glance.disk_format`` when
    its disk is not vmdk), ``sl:os`` the family and ``sl:osname`` the
    distribution as AppDB names it, and the fields atrope requires
    present. Fields HEPiX has no name for are ``sl:`` keys.
    """
    a = appliance
    image = dict(a.other_fields)
    image.update({
        'dc:identifier': a.identifier,
        'dc:title': a.title,
        'dc:description': a.description or '',
        'dc:date:created': model.format_time(a.created),
        'dc:date:expires': model.format_time(a.expires),
        'ad:mpuri': a.mpuri or (a.locations[0] if a.locations else ''),
        'hv:uri': a.locations[0] if a.locations else '',
        'hv:size': str(a.size),
        'hv:format': (a.container_format if a.container_format != 'bare'
                      else a.disk_format).upper(),
        'hv:hypervisor': a.hypervisor or '',
        'hv:version': a.version or '',
        'hv:ram_minimum': _number_text(a.ram_minimum),
        'hv:core_minimum': _number_text(a.core_minimum),
        'sl:arch': a.arch or '',
        'sl:os': a.os_family or distros.family(a.os) or '',
        'sl:osname': distros.appdb_name(a.os) if a.os else '',
        'sl:osversion': a.os_version or '',
        'sl:checksum:sha512': a.sha512,
        'sl:checksum:sha256': a.sha256,
        'sl:checksum:sha1': a.sha1,
        'sl:identifier': a.stratuslab_id,
        'sl:vos': list(a.vos) or None,
        'sl:deprecated': a.deprecated,
        'sl:replaces': a.replaces,
        'sl:replacedby': a.replaced_by,
        'sl:locations': list(a.locations[1:]) or None,
    })
    for key in APPDB_REQUIRED:
        image.setdefault(key, '')
    if not image['ad:user:fullname'] and a.endorser and a.endorser.name:
        image['ad:user:fullname'] = a.endorser.name
    image.update(a.glance_properties)
    if a.container_format != 'bare' and \
            a.disk_format != model.OVA_DISK_FORMAT:
        image[_GLANCE + 'disk_format'] = a.disk_format
    return {'hv:image': {key: value for key, value in image.items()
                         if value is not None}}


# -- lists -------------------------------------------------------------------

def read_list(document, source):
    """Return the fields of an ``{"hv:imagelist": {...}}`` document.

    A dict of :class:`image_list.ImageList`'s fields, ``appliances``
    included, each read and checked (module docstring).

    :raises InvalidInput: naming ``source``, the entry and the field.
    """
    body = document.get('hv:imagelist') if isinstance(document,
                                                      dict) else None
    if not isinstance(body, dict):
        raise exceptions.InvalidInput(
            '%s is not a HEPiX image list: no "hv:imagelist" object.'
            % source)
    fields = _Fields(body, source)
    who = endorser(body.get('hv:endorser'), source)
    entries = body.get('hv:images')
    if entries is not None and not isinstance(entries, list):
        fields.fail('hv:images', 'is %s, not a list of entries'
                    % _json_type(entries))
    return {
        'identifier': fields.required('dc:identifier', fields.checked(
            'dc:identifier', identifiers.check_identifier),
            'a list needs one'),
        'title': fields.text('dc:title') or '',
        'description': fields.text('dc:description') or '',
        'source': fields.text('dc:source') or '',
        'version': fields.version('hv:version') or '',
        'uri': fields.text('hv:uri') or '',
        'vo': fields.text('ad:vo') or None,
        'endorser': who,
        'created': fields.date('dc:date:created'),
        'expires': fields.date('dc:date:expires'),
        'appliances': [from_entry(entry, who, '%s, entry %d'
                                  % (source, index))
                       for index, entry in enumerate(entries or ())],
    }

"""A server's flavor, for its record: vCPUs, RAM, disk and extra specs.

Compute microversion 2.47 (Nova Pike) embeds the flavor in the server:
its sizes, ``original_name``, and its extra specs when the policy
``os_compute_api:servers:show:flavor-extra-specs`` shows them (the
``reader`` role holds it on its project). A Nova older than 2.47, or a
proxy that rewrites servers, names the flavor by id only, or not at all.
What the server does not embed comes from the flavor list
(``GET /flavors/detail``), read once a run and only when needed; a flavor
missing from it (deleted since, or private to another project) is read
on its own once (``GET /flavors/{id}``), and each flavor's extra specs
once (``GET /flavors/{id}/os-extra_specs``).

A size no source gives (the flavor deleted since, a value that is not a
whole number) stays None: the record leaves CpuCount, Memory or Disk out
rather than write 0, as cASO does.
"""

import dataclasses
import typing
import urllib.parse

from stratuslab_plugins.accounting import exceptions


def _size(value):
    """Return a flavor size as an int, None when Nova did not say.

    Whatever is not a whole number of 0 or more (absent, empty, mangled
    by a proxy) is unknown: the record leaves the field out.
    """
    if isinstance(value, bool) or (isinstance(value, float)
                                   and not value.is_integer()):
        return None
    try:
        size = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return size if size >= 0 else None


def _text(value):
    """Return a name or id Nova gave as a string, None when it gave none."""
    if value in (None, '') or isinstance(value, (dict, list, bool)):
        return None
    return str(value)


def _object(value):
    """Return a JSON object Nova gave, None when it gave something else."""
    return value if isinstance(value, dict) else None


@dataclasses.dataclass
class Flavor:
    """What a server's flavor tells the record; None is unknown, not 0.

    :param disk_gb: root plus ephemeral disk, as cASO and APEL count it.
    :param extra_specs: None until read.
    """

    vcpus: typing.Optional[int] = None
    memory_mb: typing.Optional[int] = None
    disk_gb: typing.Optional[int] = None
    extra_specs: typing.Optional[dict] = None

    @classmethod
    def _of(cls, vcpus, ram, disk, ephemeral, extra_specs):
        root, ephemeral = _size(disk), _size(ephemeral)
        return cls(vcpus=_size(vcpus), memory_mb=_size(ram),
                   disk_gb=(root + ephemeral
                            if None not in (root, ephemeral) else None),
                   extra_specs=extra_specs)

    @classmethod
    def embedded(cls, flavor):
        """From the flavor a server embeds (microversion 2.47 and later)."""
        return cls._of(flavor.get('vcpus'), flavor.get('ram'),
                       flavor.get('disk'), flavor.get('ephemeral'),
                       _object(flavor.get('extra_specs')))

    @classmethod
    def listed(cls, flavor):
        """From an entry of ``GET /flavors/detail`` or ``/flavors/{id}``."""
        return cls._of(flavor.get('vcpus'), flavor.get('ram'),
                       flavor.get('disk'),
                       flavor.get('OS-FLV-EXT-DATA:ephemeral'),
                       _object(flavor.get('extra_specs')))


class Flavors:
    """A per-run cache of the flavors servers run with.

    :param get: callable ``(session, path) -> JSON body`` of a Nova GET,
        raising the accounting's exceptions (``NotAvailable`` for a 404).
    """

    def __init__(self, get):
        self._get = get
        self._flavors = None
        self._ids = None
        self._specs = {}

    def _listed(self, session):
        """Return ``{id: flavor}`` and ``{name: id}`` of the flavor list.

        Read once a run, with every flavor an admin may see
        (``is_public=None``; Nova shows a reader the public flavors and
        those its project may use).
        """
        if self._flavors is None:
            body = self._get(session, '/flavors/detail?is_public=None')
            flavors = [f for f in body.get('flavors') or ()
                       if isinstance(f, dict) and _text(f.get('id'))]
            self._flavors = {str(f['id']): f for f in flavors}
            self._ids = {str(f['name']): str(f['id']) for f in flavors
                         if _text(f.get('name'))}
        return self._flavors, self._ids

    def _find(self, session, flavor_id=None, name=None):
        """Return ``(id, flavor)`` for an id or a name; flavor None if unknown.

        A flavor missing from the list (deleted since, or private to
        another project) is read on its own once; a 404 leaves it unknown.
        """
        if not (flavor_id or name):
            return None, None
        flavors, ids = self._listed(session)
        flavor_id = flavor_id or ids.get(name)
        if flavor_id is None:
            return None, None
        if flavor_id not in flavors:
            path = '/flavors/%s' % urllib.parse.quote(flavor_id, safe='')
            try:
                flavors[flavor_id] = _object(
                    self._get(session, path).get('flavor'))
            except exceptions.NotAvailable:
                flavors[flavor_id] = None
        return flavor_id, flavors[flavor_id]

    def _extra_specs(self, session, flavor_id):
        """Return a listed flavor's extra specs, each flavor read once."""
        if flavor_id not in self._specs:
            body = self._get(session, '/flavors/%s/os-extra_specs'
                             % urllib.parse.quote(flavor_id, safe=''))
            self._specs[flavor_id] = _object(body.get('extra_specs')) or {}
        return self._specs[flavor_id]

    def flavor_of(self, server, session):
        """Return the :class:`Flavor` a server runs with.

        The sizes and extra specs the server embeds; what it does not,
        from the flavor list; a size nobody knows stays None, not 0.

        :param session: the session that reads the server's project.
        """
        embedded = server.get('flavor')
        if not isinstance(embedded, dict):
            embedded = {}
        if 'vcpus' in embedded:
            flavor = Flavor.embedded(embedded)
            if flavor.extra_specs is None:
                flavor_id, listed = self._find(
                    session, name=_text(embedded.get('original_name')))
                flavor.extra_specs = (self._extra_specs(session, flavor_id)
                                      if listed else {})
            return flavor
        flavor_id, listed = self._find(session,
                                       flavor_id=_text(embedded.get('id')))
        if listed is None:
            return Flavor(extra_specs={})
        flavor = Flavor.listed(listed)
        if flavor.extra_specs is None:
            flavor.extra_specs = self._extra_specs(session, flavor_id)
        return flavor

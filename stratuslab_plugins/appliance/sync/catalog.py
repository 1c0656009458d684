"""The image catalogue the sync writes to, as the sync sees it.

:class:`ImageCatalog` is the narrow interface a plan is applied through:
list the images carrying our tag, create one, give it its data (by
location or by upload), change its attributes, (de)activate it, share it
and delete it. Glance's implementation is
:class:`stratuslab_plugins.image.sync.GlanceCatalog`; :class:`MemoryCatalog`
is a first-class in-memory one for unit tests and dry runs of the
planner, with Glance's rules that matter to the sync (members only on
shared images, status changes).
"""

import abc
import dataclasses
import hashlib
import itertools

from stratuslab_plugins.appliance import exceptions

#: Base image attributes the sync sets; every other key is a property.
BASE_ATTRIBUTES = ('name', 'visibility', 'os_hidden', 'min_ram', 'min_disk')


class CatalogError(exceptions.ApplianceError):
    """The image catalogue refused or failed a call (message says which)."""


@dataclasses.dataclass
class ImageSpec:
    """A new image as the sync creates it.

    :param attributes: base attributes (:data:`BASE_ATTRIBUTES`) and
        properties, all in one mapping, as Glance's API takes them.
    :param location: where the image service reads the data from.
    :param sha512: the endorsed SHA-512 (validation data).
    :param container_format: ``bare``, or ``ova`` for an OVA appliance.
    """

    disk_format: str
    attributes: dict
    location: str
    sha512: str
    size: int
    container_format: str = 'bare'


@dataclasses.dataclass
class ManagedImage:
    """An image carrying the sync's tag, as the catalogue lists it.

    :param attributes: base attributes and properties in one mapping.
    :param members: ``{project: status}`` of a shared image.
    """

    id: str
    status: str
    attributes: dict
    members: dict = dataclasses.field(default_factory=dict)

    def get(self, key, default=None):
        return self.attributes.get(key, default)


class ImageCatalog(abc.ABC):
    """What the sync needs from an image service."""

    @abc.abstractmethod
    def managed_images(self, tag):
        """Return every image tagged ``tag``, hidden or not, with members."""

    @abc.abstractmethod
    def create_image(self, spec, tag):
        """Create an image record (no data yet) tagged ``tag``; return id."""

    @abc.abstractmethod
    def add_location(self, image_id, spec):
        """Give the image its data by location, validated by SHA-512."""

    @abc.abstractmethod
    def upload(self, image_id, chunks, store):
        """Upload ``chunks`` into ``store``; return the stored SHA-512."""

    @abc.abstractmethod
    def update_image(self, image_id, changes, remove=()):
        """Set ``changes`` and remove the ``remove`` properties.

        One write: ``remove`` names properties the image has (as listed
        by :meth:`managed_images`), so the image is not read again.
        """

    @abc.abstractmethod
    def deactivate(self, image_id):
        """Stop the image from being used (no download, no boot)."""

    @abc.abstractmethod
    def reactivate(self, image_id):
        """Undo :meth:`deactivate`."""

    @abc.abstractmethod
    def delete(self, image_id):
        """Delete the image."""

    @abc.abstractmethod
    def add_member(self, image_id, project):
        """Share the image with ``project`` (status pending)."""

    @abc.abstractmethod
    def accept_member(self, image_id, project):
        """Accept the share on behalf of ``project``."""

    @abc.abstractmethod
    def remove_member(self, image_id, project):
        """Stop sharing the image with ``project``."""


class MemoryCatalog(ImageCatalog):
    """An in-memory catalogue (unit tests, planner experiments).

    ``calls`` records every write as ``(method, image id)``.
    """

    def __init__(self):
        self.images = {}
        self.calls = []
        self._ids = itertools.count(1)

    def _write(self, method, image_id):
        self.calls.append((method, image_id))
        return self.images[image_id]

    def managed_images(self, tag):
        return [dataclasses.replace(image,
                                    attributes=dict(image.attributes),
                                    members=dict(image.members))
                for image in self.images.values()
                if tag in image.attributes.get('tags', ())]

    def create_image(self, spec, tag):
        image_id = 'image-%d' % next(self._ids)
        attributes = dict(spec.attributes, tags=[tag],
                          disk_format=spec.disk_format,
                          container_format=spec.container_format)
        attributes.setdefault('os_hidden', False)
        self.images[image_id] = ManagedImage(image_id, 'queued', attributes)
        self.calls.append(('create_image', image_id))
        return image_id

    def add_location(self, image_id, spec):
        image = self._write('add_location', image_id)
        image.attributes['location'] = spec.location
        image.status = 'active'

    def upload(self, image_id, chunks, store):
        image = self._write('upload', image_id)
        digest = hashlib.sha512()
        for chunk in chunks:
            digest.update(chunk)
        image.attributes['stores'] = store
        image.status = 'active'
        return digest.hexdigest()

    def update_image(self, image_id, changes, remove=()):
        image = self._write('update_image', image_id)
        image.attributes.update(changes)
        for key in remove:
            image.attributes.pop(key, None)

    def deactivate(self, image_id):
        self._write('deactivate', image_id).status = 'deactivated'

    def reactivate(self, image_id):
        self._write('reactivate', image_id).status = 'active'

    def delete(self, image_id):
        self._write('delete', image_id)
        del self.images[image_id]

    def add_member(self, image_id, project):
        image = self._write('add_member', image_id)
        if image.attributes.get('visibility') != 'shared':
            raise CatalogError("Only shared images have members.")
        image.members[project] = 'pending'

    def accept_member(self, image_id, project):
        self._write('accept_member', image_id).members[project] = 'accepted'

    def remove_member(self, image_id, project):
        del self._write('remove_member', image_id).members[project]

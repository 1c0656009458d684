"""Which image a VM ran, as the EGI repository names it: read once a run.

The EGI accounting portal groups VM usage by a record's ImageId and
expects there the AppDB marketplace URI of the image, the Glance property
``vmcatcher_event_ad_mpuri`` that the appliance sync, atrope and
cloudkeeper set on the images they register. cASO writes that URI when
the image has one and the Glance id otherwise; so do we, reading Glance
once a run rather than once per project:

* the first lookup lists every image the accounting user sees
  (``GET /v2/images?visibility=all``, paged by ``[accounting] page_size``);
* an image missing from that listing (hidden with ``os_hidden``, as the
  sync hides a retired appliance; private to a project read with its own
  token) is read on its own (``GET /v2/images/{id}``), once;
* an image deleted since keeps its Glance id.

Every answer, misses too, is cached for the run, so each image costs at
most one call whatever the number of its servers. A URI that could not
go into a record whole (longer than APEL's 255 characters, or not
printable ASCII) is not used: the Glance id stands instead.

``[accounting] image_id_source`` forces either name: ``glance`` (Glance is
never read) or ``mpuri`` (ImageId left out for an image without one).

Least privilege: Glance's ``get_images`` and ``get_image``, which the
``reader`` role holds on its project by default. When Glance refuses the
accounting user, or the catalog has no image service, the run warns once
and goes on with Glance ids.
"""

import logging
import urllib.parse

from keystoneauth1 import exceptions as ks_exceptions

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.extractors import base
from stratuslab_plugins.appliance.sync import plan

LOG = logging.getLogger(__name__)

#: ``[accounting] image_id_source`` values.
AUTO = 'auto'
MPURI = 'mpuri'
GLANCE = 'glance'
SOURCES = (AUTO, MPURI, GLANCE)

#: The image property holding the AppDB marketplace URI (atrope's name).
MPURI_PROPERTY = plan.MPURI
#: APEL's ImageId column is a varchar(255).
MAX_LENGTH = 255

SERVICE = 'Glance'
NEEDED = ('the reader role on the project (Glance policies get_images, '
          'get_image)')


def usable_uri(value):
    """Return a marketplace URI that fits an APEL record whole, or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_LENGTH or not value.isascii() or \
            not value.isprintable():
        return None
    return value


def image_id(glance_id, uri, source=AUTO):
    """Return the ImageId of an image, by ``source``.

    :param glance_id: the image's Glance id.
    :param uri: its usable marketplace URI, or None.
    """
    if source == GLANCE:
        return glance_id
    if source == MPURI:
        return uri
    return uri or glance_id


class ImageIds:
    """A per-run cache of ``Glance id -> ImageId``.

    :param source: ``[accounting] image_id_source``.
    :param page_size: images asked per page of the listing.
    :param adapter_for: callable ``session -> keystoneauth1 Adapter`` of
        the image service.
    """

    def __init__(self, source, page_size, adapter_for):
        self.source = source
        self.page_size = page_size
        self.adapter_for = adapter_for
        self._uris = None
        self._unreadable = False
        self.calls = 0

    def _get(self, adapter, path):
        self.calls += 1
        call = 'GET %s' % path
        try:
            body = adapter.get(path).json()
        except ks_exceptions.ClientException as exc:
            raise base.call_failed(SERVICE, call, exc, NEEDED)
        except ValueError as exc:
            raise exceptions.ExtractorError(
                '%s answered %s with no JSON: %s' % (SERVICE, call, exc))
        if not isinstance(body, dict):
            raise exceptions.ExtractorError(
                '%s answered %s with %s, not a JSON object.'
                % (SERVICE, call, type(body).__name__))
        return body

    def _listing(self, adapter):
        """Yield every image of the paged ``/v2/images`` listing."""
        query = {'visibility': 'all', 'limit': self.page_size}
        seen = set()
        while True:
            body = self._get(adapter, '/v2/images?%s'
                             % urllib.parse.urlencode(query))
            images = [i for i in body.get('images') or ()
                      if isinstance(i, dict) and i.get('id')]
            yield from images
            marker = images[-1]['id'] if images else None
            # A Glance that pages in circles would loop for ever.
            if not body.get('next') or marker is None or marker in seen:
                return
            seen.add(marker)
            query['marker'] = marker

    def _unusable(self, exc):
        if not self._unreadable:
            LOG.warning('Cannot read image names from Glance (%s): ImageId '
                        'is the Glance id for the rest of this run.',
                        str(exc).rstrip('.'))
        self._unreadable = True

    def _list_all(self, session):
        self._uris, refused = {}, None
        try:
            for image in self._listing(self.adapter_for(session)):
                self._uris[image['id']] = usable_uri(
                    image.get(MPURI_PROPERTY))
        except (exceptions.PermissionDenied, exceptions.NotAvailable) as exc:
            refused = exc
        if refused is not None:
            # Logged outside the handler: oslo.log would add a traceback.
            self._unusable(refused)

    def _read(self, glance_id, session):
        refused = None
        try:
            body = self._get(self.adapter_for(session), '/v2/images/%s'
                             % urllib.parse.quote(glance_id, safe=''))
        except exceptions.NotAvailable:
            # Deleted since (Glance says 404 for an image it hides too).
            return None
        except exceptions.PermissionDenied as exc:
            refused = exc
        if refused is not None:
            self._unusable(refused)
            return None
        return usable_uri(body.get(MPURI_PROPERTY))

    def get(self, glance_id, session):
        """Return the ImageId of the image ``glance_id``, or None.

        :param session: keystoneauth1 session to read Glance with (the
            project's, when the run reads project by project).
        """
        if not glance_id or self.source == GLANCE:
            return glance_id or None
        if self._uris is None:
            self._list_all(session)
        if glance_id not in self._uris and not self._unreadable:
            self._uris[glance_id] = self._read(glance_id, session)
        return image_id(glance_id, self._uris.get(glance_id), self.source)

"""Glance as the appliance sync's catalogue (an openstacksdk adapter).

:class:`GlanceCatalog` implements
:class:`stratuslab_plugins.appliance.sync.catalog.ImageCatalog` with
Glance's image API v2, through an openstacksdk ``Connection``. It lives
in ``image/``, the Glance adapters' room, so that ``appliance/`` stays
free of OpenStack: the sync's policy is tested with plain data, and this
module is the only one that knows Glance's URLs and quirks.

It speaks the v2 REST API through the SDK's image proxy (a keystoneauth
adapter) rather than the SDK's resource methods, because the sync needs
calls and answers the resources do not carry as they are: listing with
``visibility=all`` and both ``os_hidden`` values, the raw properties of
an image for exact comparison, and Glance 33's locations API with
validation data (``POST /v2/images/{id}/locations``).

What the credentials need (Glance 33 defaults): ``admin`` to list every
image, manage members and accept them on behalf of the projects (the
member-status policy lets an admin do it); and the ``service`` role, or
a service token, to add a location of a store other than ``http``.
"""

import concurrent.futures
import json

from oslo_log import log as logging

from stratuslab_plugins.appliance.sync import catalog

LOG = logging.getLogger(__name__)

PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'
PAGE_SIZE = 200


class GlanceCatalog(catalog.ImageCatalog):
    """The sync's catalogue in Glance.

    :param connection: an ``openstack.connection.Connection`` (or anything
        with an ``image`` proxy) acting with the roles above.
    :param workers: member lists read side by side when listing images
        (one call per shared image: latency, not work, is their cost).
    """

    def __init__(self, connection, workers=4):
        self.image_api = connection.image
        self.workers = max(1, workers)

    # -- plumbing ---------------------------------------------------------

    def _call(self, method, path, expect, what, **kwargs):
        response = getattr(self.image_api, method)(
            path, raise_exc=False, **kwargs)
        if response.status_code not in expect:
            text = response.text[:500] if response.text else ''
            raise catalog.CatalogError(
                'Glance refused to %s (HTTP %d on %s %s): %s'
                % (what, response.status_code, method.upper(), path,
                   text.strip() or 'no explanation'))
        return response

    def _pages(self, params):
        path = '/images'
        params = dict(params, limit=PAGE_SIZE)
        while path:
            body = self._call('get', path, (200,), 'list images',
                              params=params).json()
            yield from body.get('images', ())
            path = body.get('next')
            if path:
                # ``next`` is /v2/images?...: relative to the v2 endpoint,
                # with the query already in it.
                path = path[len('/v2'):] if path.startswith('/v2') else path
                params = None

    def _members(self, image_id):
        body = self._call('get', '/images/%s/members' % image_id, (200,),
                          'list the members of image %s' % image_id).json()
        return {member['member_id']: member['status']
                for member in body.get('members', ())}

    # -- reading ---------------------------------------------------------

    def managed_images(self, tag):
        images = []
        # Glance hides os_hidden images from a plain list, and lists
        # community images only with visibility=community or all.
        for hidden in ('false', 'true'):
            for record in self._pages({'tag': tag, 'visibility': 'all',
                                       'os_hidden': hidden}):
                images.append(catalog.ManagedImage(
                    record['id'], record['status'], record))
        shared = [image for image in images
                  if image.get('visibility') == 'shared']
        with concurrent.futures.ThreadPoolExecutor(
                max_workers=self.workers,
                thread_name_prefix='glance-members') as pool:
            for image, members in zip(shared, pool.map(
                    lambda image: self._members(image.id), shared)):
                image.members = members
        return images

    def image(self, image_id):
        """Return the image's record (a dict) as Glance's API shows it."""
        return self._call('get', '/images/%s' % image_id, (200,),
                          'show image %s' % image_id).json()

    # -- writing ---------------------------------------------------------

    def create_image(self, spec, tag):
        body = dict(spec.attributes, disk_format=spec.disk_format,
                    container_format=spec.container_format, tags=[tag])
        return self._call('post', '/images', (201,),
                          'create image %s' % body.get('name'),
                          json=body).json()['id']

    def add_location(self, image_id, spec):
        self._call('post', '/images/%s/locations' % image_id, (202,),
                   'add location %s to image %s' % (spec.location,
                                                    image_id),
                   json={'url': spec.location, 'validation_data': {
                       'os_hash_algo': 'sha512',
                       'os_hash_value': spec.sha512}})

    def upload(self, image_id, chunks, store):
        self._call('put', '/images/%s/file' % image_id, (204,),
                   'store image %s in store %s' % (image_id, store),
                   data=chunks,
                   headers={'Content-Type': 'application/octet-stream',
                            'X-Image-Meta-Store': store})
        record = self.image(image_id)
        if record.get('os_hash_algo') != 'sha512':
            # Glance hashed with another algorithm; the SHA-512 was
            # checked on the way in by the sync itself.
            return None
        return record.get('os_hash_value')

    def update_image(self, image_id, changes, remove=()):
        # One call: in the v2.1 patch format, ``add`` on a property that
        # exists replaces it (JSON Patch semantics), so the image need
        # not be read first; ``remove`` names properties the listing the
        # plan came from showed (gone since: 409, and the next run
        # plans from a fresh listing).
        patch = [{'op': 'add', 'path': '/' + key, 'value': value}
                 for key, value in sorted(changes.items())]
        patch.extend({'op': 'remove', 'path': '/' + key} for key in remove)
        if not patch:
            return
        self._call('patch', '/images/%s' % image_id, (200,),
                   'update image %s' % image_id, data=json.dumps(patch),
                   headers={'Content-Type': PATCH_TYPE})

    def deactivate(self, image_id):
        self._call('post', '/images/%s/actions/deactivate' % image_id,
                   (204,), 'deactivate image %s' % image_id)

    def reactivate(self, image_id):
        self._call('post', '/images/%s/actions/reactivate' % image_id,
                   (204,), 'reactivate image %s' % image_id)

    def delete(self, image_id):
        self._call('delete', '/images/%s' % image_id, (204, 404),
                   'delete image %s' % image_id)

    def add_member(self, image_id, project):
        # 409: already a member (a run interrupted after this call).
        self._call('post', '/images/%s/members' % image_id, (200, 409),
                   'share image %s with project %s' % (image_id, project),
                   json={'member': project})

    def accept_member(self, image_id, project):
        self._call('put', '/images/%s/members/%s' % (image_id, project),
                   (200,), 'accept image %s for project %s'
                   % (image_id, project), json={'status': 'accepted'})

    def remove_member(self, image_id, project):
        self._call('delete', '/images/%s/members/%s' % (image_id, project),
                   (204, 404), 'stop sharing image %s with project %s'
                   % (image_id, project))

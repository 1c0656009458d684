"""Manifests: stored, fetched (bounded, digest-checked), resolved, deleted.
"""

import hashlib
import json

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import identifiers

OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX)
EMPTY_CONFIG_TYPE = 'application/vnd.oci.empty.v1+json'
EMPTY_CONFIG = b'{}'
MANIFEST_MAX_BYTES = 4 * 1024 * 1024


class Manifests:
    """Manifest calls of :class:`RegistryClient` (a mixin over Transport)."""

    def push_manifest(self, repository, reference, manifest,
                      media_type=OCI_MANIFEST):
        """Store ``manifest`` (a dict) under a tag or digest; return digest."""
        if not reference.startswith('sha256:'):
            identifiers.check_tag(reference)
        body = json.dumps(manifest, sort_keys=True).encode('utf-8')
        digest = 'sha256:' + hashlib.sha256(body).hexdigest()
        self._request('PUT', self._url(repository, 'manifests', reference),
                      'store manifest %s:%s' % (repository, reference),
                      expect=(201,), data=body,
                      headers={'Content-Type': media_type})
        return digest

    def _manifest_url(self, repository, reference):
        if reference.startswith('sha256:'):
            identifiers.check_digest(reference)
        else:
            identifiers.check_tag(reference)
        return self._url(repository, 'manifests', reference)

    def get_manifest(self, repository, reference):
        """Return ``(digest, manifest dict)`` of a tag or digest."""
        response = self._request(
            'GET', self._manifest_url(repository, reference),
            'send manifest %s:%s' % (repository, reference),
            headers={'Accept': ', '.join(MANIFEST_TYPES)}, stream=True)
        body = response.raw.read(MANIFEST_MAX_BYTES + 1, decode_content=True)
        response.close()
        if len(body) > MANIFEST_MAX_BYTES:
            raise exceptions.InvalidInput(
                'Manifest %s:%s at %s is larger than %d bytes; it is not an '
                'appliance.' % (repository, reference, self.url,
                                MANIFEST_MAX_BYTES))
        digest = 'sha256:' + hashlib.sha256(body).hexdigest()
        if reference.startswith('sha256:') and digest != reference:
            raise exceptions.IntegrityError(
                'Manifest %s@%s at %s has digest %s; it was altered.'
                % (repository, reference, self.url, digest))
        try:
            return digest, json.loads(body)
        except ValueError:
            raise exceptions.InvalidInput(
                'Manifest %s:%s at %s is not JSON.'
                % (repository, reference, self.url)) from None

    def resolve(self, repository, reference):
        """Return the manifest digest a tag (or digest) names."""
        response = self._request(
            'HEAD', self._manifest_url(repository, reference),
            'find manifest %s:%s' % (repository, reference),
            headers={'Accept': ', '.join(MANIFEST_TYPES)})
        return identifiers.check_digest(
            response.headers.get('Docker-Content-Digest'))

    def delete_manifest(self, repository, reference):
        """Delete a manifest (and with it every tag naming it).

        :returns: the digest of the deleted manifest.
        """
        digest = self.resolve(repository, reference)
        try:
            self._request('DELETE', self._url(repository, 'manifests',
                                              digest),
                          'delete manifest %s@%s' % (repository, digest),
                          expect=(202, 200))
        except exceptions.RegistryError as error:
            if error.status == 405:
                raise exceptions.RegistryError(
                    'Registry %s does not allow deletes; enable them in its '
                    'configuration (storage: delete: enabled: true).'
                    % self.url, status=405) from None
            raise
        return digest

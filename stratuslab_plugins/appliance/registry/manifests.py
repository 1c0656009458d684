"""Manifests: stored, fetched (bounded, digest-checked, validated), deleted.

A manifest fetched from a registry is hostile input until checked:
:func:`check_manifest` validates its structure against the OCI image
specification (an image manifest's ``config`` and ``layers``, an index's
``manifests``) before any caller reads a field of it, so that a wrong
type, a size of ``1e999`` or ``-1``, or a thousand-deep nesting is
refused with :class:`InvalidInput` naming the manifest and the field,
and never escapes as ``TypeError`` or ``OverflowError`` from the code
that trusted it (the Glance store, the publisher, the sync).
"""

import hashlib
import json
import re

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import identifiers
from stratuslab_plugins.appliance.registry import bodies

OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX)
EMPTY_CONFIG_TYPE = 'application/vnd.oci.empty.v1+json'
EMPTY_CONFIG = b'{}'
MANIFEST_MAX_BYTES = bodies.MANIFEST_MAX_BYTES
#: Layers of an image manifest, or manifests of an index.
MAX_DESCRIPTORS = 1000
#: Annotations of a manifest or of one descriptor.
MAX_ANNOTATIONS = 1000
_MEDIA_TYPE_RE = re.compile(r'\A[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}'
                            r'/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\Z')
# The OCI image specification's digest grammar, bounded.
_DIGEST_RE = re.compile(r'\A[a-z0-9]+(?:[+._-][a-z0-9]+)*:'
                        r'[a-zA-Z0-9=_-]{1,256}\Z')


def _fail(where, field, problem):
    raise exceptions.InvalidInput('%s: %s %s.' % (where, field, problem))


def _check_type(value, kind, where, field):
    if isinstance(value, bool) or not isinstance(value, kind):
        _fail(where, field, 'is %s, not %s' % (
            type(value).__name__, getattr(kind, '__name__', 'a ' + str(kind))))
    return value


def _check_annotations(value, where, field):
    if value is None:
        return
    _check_type(value, dict, where, field)
    if len(value) > MAX_ANNOTATIONS:
        _fail(where, field, 'has more than %d entries' % MAX_ANNOTATIONS)
    for key, text in value.items():
        if not isinstance(text, str):
            _fail(where, '%s[%r]' % (field, key[:100]),
                  'is %s, not a string' % type(text).__name__)


def _check_descriptor(value, where, field):
    _check_type(value, dict, where, field)
    media_type = _check_type(value.get('mediaType'), str, where,
                             field + '.mediaType')
    if not _MEDIA_TYPE_RE.match(media_type):
        _fail(where, field + '.mediaType', 'is not a media type')
    digest = _check_type(value.get('digest'), str, where, field + '.digest')
    if not _DIGEST_RE.match(digest):
        _fail(where, field + '.digest', 'is not a digest (ALGORITHM:HEX)')
    try:
        identifiers.check_size(value.get('size'))
    except exceptions.InvalidInput as error:
        _fail(where, field + '.size', 'is invalid: %s' % error)
    _check_annotations(value.get('annotations'), where,
                       field + '.annotations')


def _check_descriptors(document, key, where):
    items = _check_type(document.get(key), list, where, key)
    if len(items) > MAX_DESCRIPTORS:
        _fail(where, key, 'has more than %d entries' % MAX_DESCRIPTORS)
    for index, item in enumerate(items):
        _check_descriptor(item, where, '%s[%d]' % (key, index))


def check_manifest(document, where='manifest'):
    """Return ``document`` if it is a valid OCI manifest or index.

    :param where: what the manifest is, for messages.
    :raises InvalidInput: naming ``where`` and the field.
    """
    _check_type(document, dict, where, 'the document')
    if document.get('schemaVersion') != 2 or isinstance(
            document.get('schemaVersion'), bool):
        _fail(where, 'schemaVersion', 'is not 2')
    media_type = document.get('mediaType')
    if media_type is not None and media_type not in MANIFEST_TYPES:
        _fail(where, 'mediaType', 'is %r, not a manifest type'
              % str(media_type)[:100])
    index = media_type == OCI_INDEX or (
        media_type is None and 'manifests' in document
        and 'layers' not in document)
    # What a kind requires, and whatever else of them is present: a
    # caller may read any of them.
    if index or 'manifests' in document:
        _check_descriptors(document, 'manifests', where)
    if not index or 'config' in document:
        _check_descriptor(document.get('config'), where, 'config')
    if not index or 'layers' in document:
        _check_descriptors(document, 'layers', where)
    _check_annotations(document.get('annotations'), where, 'annotations')
    return document


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
        """Return ``(digest, manifest dict)`` of a tag or digest.

        :raises InvalidInput: when the manifest is too large, not JSON,
            or not a valid OCI manifest (see :func:`check_manifest`).
        :raises IntegrityError: when a digest reference names other
            content.
        """
        where = 'Manifest %s:%s at %s' % (repository, reference, self.url)
        response = self._request(
            'GET', self._manifest_url(repository, reference),
            'send manifest %s:%s' % (repository, reference),
            headers={'Accept': ', '.join(MANIFEST_TYPES)}, stream=True)
        try:
            body = bodies.read(response, MANIFEST_MAX_BYTES, 'a manifest',
                               'Registry %s' % self.url)
        except bodies.TooLarge:
            raise exceptions.InvalidInput(
                '%s is larger than %d bytes; it is not an appliance.'
                % (where, MANIFEST_MAX_BYTES)) from None
        digest = 'sha256:' + hashlib.sha256(body).hexdigest()
        if reference.startswith('sha256:') and digest != reference:
            raise exceptions.IntegrityError(
                'Manifest %s@%s at %s has digest %s; it was altered.'
                % (repository, reference, self.url, digest))
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise exceptions.InvalidInput(
                '%s is not JSON.' % where) from None
        return digest, check_manifest(document, where)

    def resolve(self, repository, reference):
        """Return the manifest digest a tag (or digest) names."""
        response = self._request(
            'HEAD', self._manifest_url(repository, reference),
            'find manifest %s:%s' % (repository, reference),
            headers={'Accept': ', '.join(MANIFEST_TYPES)})
        return identifiers.check_digest(self._header(
            response, 'Docker-Content-Digest',
            'find manifest %s:%s' % (repository, reference)))

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

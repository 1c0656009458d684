"""The appliance repository: appliances published in an OCI registry.

Where ``registry`` speaks the OCI protocol, this module speaks
appliances. An appliance is published as an OCI artifact laid out as EGI
does it, so that EGI's tools read what we push: one manifest, an empty
config, one layer (the disk image, media type by format, e.g.
``application/x-qemu-disk`` for qcow2) annotated with
``org.openstack.glance.*`` and ``eu.egi.cloud.*``; the rest of the
appliance (identifier, SHA-512, endorser, expiry, deprecation...) is in
the manifest's ``eu.stratuslab.appliance.*`` annotations.

Publishing is all or nothing: the content is streamed and checksummed in
one pass, and the manifest (what makes it visible under a tag) is
written only after the registry has accepted and verified the whole
blob. A failed upload is cancelled; a blob whose manifest failed is
unreferenced and the registry's garbage collection removes it.

Example::

    repo = ApplianceRepository(RegistryClient('https://registry.example'))
    appliance = repo.create('vo.example.org/ubuntu:22.04',
                            open('ubuntu.qcow2', 'rb'), title='Ubuntu 22.04')
    repo.show('vo.example.org/ubuntu:22.04').sha512
"""

import dataclasses

from oslo_log import log as logging

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hashing
from stratuslab_plugins.appliance import identifiers
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import registry

LOG = logging.getLogger(__name__)


def build_manifest(appliance, config_digest, file_name=None):
    """Return the OCI manifest (dict) that publishes ``appliance``."""
    notes, layer_notes = appliance.to_annotations(file_name)
    return {
        'schemaVersion': 2,
        'mediaType': registry.OCI_MANIFEST,
        'config': {'mediaType': registry.EMPTY_CONFIG_TYPE,
                   'digest': config_digest,
                   'size': len(registry.EMPTY_CONFIG)},
        'layers': [{'mediaType': appliance.media_type,
                    'digest': appliance.digest,
                    'size': appliance.size,
                    'annotations': layer_notes}],
        'annotations': notes,
    }


class ApplianceRepository:
    """Create, read, deprecate and delete appliances in one registry.

    :param client: the :class:`registry.RegistryClient` of the registry.
    """

    def __init__(self, client):
        self.client = client

    @staticmethod
    def _tagged(reference):
        ref = identifiers.parse_reference(reference)
        if not ref.tag or ref.digest:
            raise exceptions.InvalidInput(
                'Reference %r must name a tag (REPOSITORY:TAG) to publish '
                'under.' % reference)
        return ref

    def _exists(self, ref):
        try:
            self.client.resolve(ref.repository, ref.tag)
        except exceptions.RegistryNotFound:
            return False
        return True

    def publish(self, reference, appliance, file_name=None):
        """Publish ``appliance``, whose blob the registry holds, at a tag.

        :param reference: ``REPOSITORY:TAG``.
        :param appliance: its ``sha256`` names the blob, its first
            location is where readers fetch it.
        :returns: the appliance as readers will see it.
        """
        return self._publish(self._tagged(reference), appliance, file_name)

    def _publish(self, ref, appliance, file_name=None):
        config = self.client.push_bytes(ref.repository,
                                        registry.EMPTY_CONFIG)
        manifest = build_manifest(appliance, config, file_name)
        self.client.push_manifest(ref.repository, ref.tag, manifest)
        # What readers will see, with the Glance properties derived from
        # the fields.
        return model.Appliance.from_manifest(manifest,
                                             appliance.locations[0])

    def create(self, reference, fileobj, title, file_name=None,
               progress=None, replace=False, **fields):
        """Upload ``fileobj`` and publish it as an appliance.

        :param reference: ``REPOSITORY:TAG`` to publish under.
        :param fileobj: the disk image, read once to its end.
        :param title: the appliance's title.
        :param file_name: the image's file name, for EGI's annotation.
        :param progress: called with each chunk's byte count.
        :param replace: allow replacing an appliance already at the tag.
        :param fields: other :class:`model.Appliance` fields (version,
            disk_format, os, arch, vos, expires, ...).
        :returns: the published :class:`model.Appliance`.
        """
        ref = self._tagged(reference)
        if not replace and self._exists(ref):
            raise exceptions.InvalidInput(
                '%s already holds an appliance; choose another tag, or '
                'delete or replace it explicitly.' % reference)
        fields.setdefault('version', ref.tag)
        # Validate every field before moving gigabytes.
        placeholder = hashing.Checksums(size=0, sha512='0' * 128,
                                        sha256='0' * 64, sha1='0' * 40)
        model.new_appliance(placeholder, title, **dict(fields))
        checksums = self.client.push_blob(ref.repository, fileobj,
                                          progress=progress)
        appliance = model.new_appliance(
            checksums, title,
            locations=[self.client.blob_url(ref.repository,
                                            checksums.digest)],
            **fields)
        return self._publish(ref, appliance, file_name)

    def show(self, reference):
        """Return the appliance published at ``REPOSITORY:TAG|@DIGEST``."""
        ref = identifiers.parse_reference(reference)
        _, manifest = self.client.get_manifest(ref.repository,
                                               ref.digest or ref.tag)
        try:
            digest = identifiers.check_digest(
                (manifest.get('layers') or [{}])[0].get('digest'))
        except exceptions.InvalidInput:
            raise exceptions.InvalidInput(
                '%s is not an appliance: its manifest has no single disk '
                'layer.' % reference) from None
        try:
            return model.Appliance.from_manifest(
                manifest, self.client.blob_url(ref.repository, digest))
        except exceptions.InvalidInput as error:
            raise exceptions.InvalidInput('%s: %s' % (reference,
                                                      error)) from None

    def list(self, repository=None):
        """Yield ``(reference, appliance)`` for every published appliance.

        Artifacts that are not appliances (container images, charts) are
        skipped with a log line.
        """
        repositories = ([identifiers.check_repository(repository)]
                        if repository else self.client.list_repositories())
        for name in repositories:
            for tag in self.client.list_tags(name):
                reference = '%s:%s' % (name, tag)
                try:
                    yield reference, self.show(reference)
                except exceptions.InvalidInput as error:
                    LOG.debug('Skipping %s: %s', reference, error)

    def deprecate(self, reference, reason, replaced_by=None):
        """Mark the appliance at a tag deprecated; return it.

        The manifest is re-published under the same tag with the reason
        (and the replacement's identifier); the content is not touched.
        """
        ref = self._tagged(reference)
        if not reason or not reason.strip():
            raise exceptions.InvalidInput(
                'Give a reason to deprecate %s; sites show it to users.'
                % reference)
        appliance = dataclasses.replace(self.show(reference),
                                        deprecated=reason.strip(),
                                        replaced_by=replaced_by)
        appliance.validate()
        return self._publish(ref, appliance)

    def delete(self, reference):
        """Delete the appliance's manifest; return its digest.

        Its content becomes unreferenced and the registry's garbage
        collection removes it.
        """
        ref = identifiers.parse_reference(reference)
        return self.client.delete_manifest(ref.repository,
                                           ref.digest or ref.tag)

    def download(self, reference, fileobj, progress=None):
        """Write the appliance's content into ``fileobj``, verified.

        Size, SHA-512, SHA-256 and SHA-1 are checked against the
        appliance's metadata after the last byte; on
        :class:`IntegrityError` the caller must discard what was written.
        """
        appliance = self.show(reference)
        self.check_content(appliance, sink=fileobj, progress=progress)
        return appliance

    def check_content(self, appliance, sink=None, progress=None):
        """Stream the appliance from its first location and verify it.

        :param sink: where to write the content; None to only verify.
        :returns: the :class:`hashing.Checksums` of what was read.
        """
        if not appliance.locations:
            raise exceptions.InvalidInput(
                'Appliance %s has no location to check.'
                % appliance.identifier)
        base, repository, digest = registry.parse_blob_url(
            appliance.locations[0])
        if appliance.digest and appliance.digest != digest:
            raise exceptions.IntegrityError(
                'Appliance %s: its location names %s but its sha256 is %s.'
                % (appliance.identifier, digest, appliance.sha256))
        if base != self.client.url:
            raise exceptions.InvalidInput(
                'Appliance %s is in registry %s, not the configured %s; '
                'point --os-appliance-registry at it.'
                % (appliance.identifier, base, self.client.url))
        hasher = hashing.ContentHasher()
        size = self.client.blob_size(repository, digest)
        if size != appliance.size:
            raise exceptions.IntegrityError(
                'Appliance %s: the registry holds %d bytes at %s, the '
                'endorsed size is %d; do not use it.'
                % (appliance.identifier, size, appliance.locations[0],
                   appliance.size))
        try:
            for chunk in self.client.iter_blob(repository, digest,
                                               size=size, hasher=hasher):
                if sink is not None:
                    sink.write(chunk)
                if progress:
                    progress(len(chunk))
        except exceptions.IntegrityError as error:
            raise exceptions.IntegrityError(
                'Appliance %s: %s' % (appliance.identifier, error)) from None
        checksums = hasher.result()
        appliance.check_content(checksums, appliance.locations[0])
        return checksums

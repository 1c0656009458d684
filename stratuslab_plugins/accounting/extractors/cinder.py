"""The ``cinder`` extractor: every volume, as a StAR storage record.

One paged all-tenants listing of ``/volumes/detail`` a run. Each volume
that exists gives one record from its creation to the measurement time,
with its size in bytes and its owner; the record id is the volume id, so
each run's record replaces the last one in the repository. A volume
deleted between two runs keeps the record of the run before.

Least privilege: the Cinder policy ``volume:get_all_tenants`` (``admin``
by default); a refused call is reported by name.
"""

from stratuslab_plugins.accounting.extractors import base
from stratuslab_plugins.accounting.extractors import nova
from stratuslab_plugins.accounting import records

#: Volumes that hold no storage (yet, or any more).
_NO_STORAGE = frozenset(('creating', 'error', 'deleting', 'error_deleting'))


class CinderExtractor(base.Extractor):
    """StAR storage records from Cinder's volumes API."""

    kinds = ('storage',)
    service = 'Cinder'
    needed = ('the admin role (Cinder policy volume:get_all_tenants)')
    service_type = 'block-storage'

    def volume_usage(self, volume, measured_at):
        """Return the ``records.VolumeUsage`` of a volume, or None."""
        if (volume.get('status') or '').lower() in _NO_STORAGE:
            return None
        return records.VolumeUsage(
            uuid=volume['id'],
            project_id=volume.get('os-vol-tenant-attr:tenant_id'),
            user_id=volume.get('user_id'),
            name=volume.get('name'),
            volume_type=volume.get('volume_type'),
            created_at=nova.parse_time(volume.get('created_at')),
            measured_at=measured_at,
            size_gb=volume.get('size') or 0,
        )

    def extract(self, since, until, context, projects=None):
        adapter = self.adapter(self.service_type)
        scopes = [{'project_id': p} for p in projects] if projects else [{}]
        for scope in scopes:
            for volume in self.paged(adapter, '/volumes/detail', 'volumes',
                                     dict(scope, all_tenants=1)):
                usage = self.volume_usage(volume, until)
                if usage is not None:
                    yield records.build_storage_record(usage, context)

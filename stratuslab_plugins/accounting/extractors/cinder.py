"""The ``cinder`` extractor: every volume, as a StAR storage record.

One paged listing of ``/volumes/detail`` a run: of every project at once
(``all_tenants``) for an admin, else of each project the accounting user
holds ``reader`` on, with a token scoped to it (see ``scopes``). Each
volume that exists gives one record from its creation to the measurement
time, with its size in bytes and its owner; the record id is the volume
id, so each run's record replaces the last one in the repository. A
volume deleted between two runs keeps the record of the run before.

Least privilege: Cinder's ``volume:get_all`` (``reader`` on the project
by default) per project; an all-projects listing (``all_tenants``) is the
admin's. A volume whose project Cinder does not show
(``os-vol-tenant-attr:tenant_id``, policy
``volume_extension:volume_tenant_attribute``) is booked to the project
its token is scoped to. A refused call is reported by name.
"""

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting.extractors import base
from stratuslab_plugins.accounting.extractors import nova

#: Volumes that hold no storage (yet, or any more).
_NO_STORAGE = frozenset(('creating', 'error', 'deleting', 'error_deleting'))


class CinderExtractor(base.Extractor):
    """StAR storage records from Cinder's volumes API."""

    kinds = ('storage',)
    service = 'Cinder'
    needed = ('the reader role on each project read (Cinder policy '
              'volume:get_all), or the admin role to read every project at '
              'once (all_tenants)')
    service_type = 'block-storage'

    def volume_usage(self, volume, measured_at, project_id=None):
        """Return the ``builders.VolumeUsage`` of a volume, or None.

        :param project_id: the project of the listing's scope, for a
            volume whose project Cinder does not show.
        """
        if (volume.get('status') or '').lower() in _NO_STORAGE:
            return None
        return builders.VolumeUsage(
            uuid=volume['id'],
            project_id=(volume.get('os-vol-tenant-attr:tenant_id')
                        or project_id),
            user_id=volume.get('user_id'),
            name=volume.get('name'),
            volume_type=volume.get('volume_type'),
            created_at=nova.parse_time(volume.get('created_at')),
            measured_at=measured_at,
            size_gb=volume.get('size') or 0,
        )

    def extract(self, since, until, context, projects=None):
        for scope in self.scopes(projects):
            adapter = self.adapter(self.service_type, scope.session)
            for volume in self.paged(adapter, '/volumes/detail', 'volumes',
                                     scope.filters()):
                usage = self.volume_usage(volume, until, scope.project_id)
                if usage is not None:
                    yield builders.build_storage_record(usage, context)

"""Accelerator records: the GPUs a flavor gives a VM, per month.

The flavor's extra specs say which accelerators a VM was given (Nova's
PCI aliases, Placement's ``VGPU`` resources). Nova checks those specs only
under strict validation, so they are untrusted text here, and every
count is bounded before it becomes a record. Apart from the cloud record's
builder (:mod:`.builders`, which calls :func:`accelerators_for`) because
this parsing and its limits are a concept of their own.
"""

import logging

from stratuslab_plugins.accounting import records
from stratuslab_plugins.grid import exceptions as grid_exceptions

LOG = logging.getLogger(__name__)

#: Flavor extra specs that declare accelerators: Nova's PCI aliases
#: (``pci_passthrough:alias`` = ``alias:count[,alias:count]``) and
#: Placement resources (``resources:VGPU`` = count).
_PCI_ALIAS_SPEC = 'pci_passthrough:alias'
_VGPU_SPEC = 'resources:VGPU'
#: Most accelerators of one kind a VM may declare: far above any host's.
MAX_ACCELERATOR_COUNT = 1024


def _accelerator_count(value, what, uuid):
    """Return the count ``value`` gives, or None when it gives none.

    Nova checks these specs only under strict validation, so a flavor may
    hold any text: what is not a count (``x``, ``²``, ``1e999``, a
    negative or huge number) is left out with a warning, so that one
    flavor neither stops the run nor writes an absurd Count.
    """
    count = None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 6:
            count = int(text)
    elif isinstance(value, int) and not isinstance(value, bool):
        count = value
    if count is not None and 0 <= count <= MAX_ACCELERATOR_COUNT:
        return count or None
    LOG.warning('Server %s: flavor extra spec %s gives %s, not a count of '
                'accelerators (0 to %d); no accelerator record for it: fix '
                'the flavor.', uuid, what, grid_exceptions.describe(value),
                MAX_ACCELERATOR_COUNT)
    return None


def _accelerator_counts(specs, uuid):
    counts = []
    aliases = specs.get(_PCI_ALIAS_SPEC) or ''
    if not isinstance(aliases, str):
        aliases = ''
        LOG.warning('Server %s: flavor extra spec %s is %s, not text; no '
                    'accelerator record for it: fix the flavor.', uuid,
                    _PCI_ALIAS_SPEC, grid_exceptions.describe(
                        specs[_PCI_ALIAS_SPEC]))
    for item in aliases.split(','):
        alias, _, count = item.strip().partition(':')
        if alias:
            counts.append((alias, _accelerator_count(
                count or '1', _PCI_ALIAS_SPEC, uuid)))
    if specs.get(_VGPU_SPEC):
        counts.append(('VGPU', _accelerator_count(specs[_VGPU_SPEC],
                                                  _VGPU_SPEC, uuid)))
    return [(model, count) for model, count in counts if count]


def accelerators_for(usage, wall, context):
    """Yield an accelerator record per accelerator kind a VM has.

    The accelerator record covers the measurement month; with cumulative
    wall time from the API its AvailableDuration is the VM's time in the
    month of ``measured_at``.
    """
    specs = usage.flavor_extra_specs or {}
    measured = records.utc(usage.measured_at)
    month_start = measured.replace(day=1, hour=0, minute=0, second=0,
                                   microsecond=0)
    start = max(records.utc(usage.started_at), month_start)
    end = records.utc(usage.ended_at) or measured
    in_month = max(0, int((end - start).total_seconds()))
    for model, count in _accelerator_counts(specs, usage.uuid):
        yield records.AcceleratorRecord(
            associated_record=usage.uuid,
            site_name=context.site_name,
            measurement_month=measured.month,
            measurement_year=measured.year,
            count=count,
            available_duration=min(in_month, wall),
            accelerator_type='GPU',
            vo=context.vo_for_project(usage.project_id),
            global_user_name=context.user_name_for(usage.user_id)
            if usage.user_id else None,
            model=model,
        )

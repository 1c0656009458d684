"""Configuration options of stratuslab-plugins, one module per area.

Each area module declares its options as module-level lists, offers
``register_opts(conf)`` for the code that uses them, and ``list_opts()``
for the generator. This module gathers them all for
``oslo-config-generator --namespace stratuslab_plugins`` (entry point
``oslo.config.opts``), so that ``tox -e genconfig`` writes a sample in
which an operator finds every option with its help.
"""

import importlib

# One name per area module in this package. Adding an area means adding its
# module here; nothing else in this file changes.
AREAS = (
    'grid',
    'scheduler',
    'appliance',
    'image',
    'accounting',
    'usage',
    'api',
    'sync',
)


def _area_modules():
    return [importlib.import_module('%s.%s' % (__name__, area))
            for area in AREAS]


def list_opts():
    """Return ``[(group, [opts])]`` for every option of the project.

    Groups that several areas share are merged, so the sample shows each
    group once.
    """
    merged = {}
    for module in _area_modules():
        for group, opts in module.list_opts():
            merged.setdefault(group, []).extend(opts)
    return [(group, opts) for group, opts in merged.items()]

"""Nova scheduler filters of the grid, found through stevedore.

Name ``stratuslab_plugins.scheduler.filters.all_filters`` in nova.conf's
``[filter_scheduler] available_filters`` beside Nova's own
``nova.scheduler.filters.all_filters``; each class registered in the
``stratuslab.scheduler.filters`` entry-point namespace is then available
to ``enabled_filters`` under its class name.
"""

from stevedore import extension

NAMESPACE = 'stratuslab.scheduler.filters'


def all_filters():
    """Return the grid filter classes (for ``available_filters``)."""
    return [ext.plugin for ext in extension.ExtensionManager(NAMESPACE)]

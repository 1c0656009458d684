"""Nova scheduler weighers of the grid, found through stevedore.

Name ``stratuslab_plugins.scheduler.weighers.all_weighers`` in nova.conf's
``[filter_scheduler] weight_classes`` beside Nova's own
``nova.scheduler.weights.all_weighers``; every class registered in the
``stratuslab.scheduler.weighers`` entry-point namespace then weighs hosts.
"""

from stevedore import extension

NAMESPACE = 'stratuslab.scheduler.weighers'


def all_weighers():
    """Return the grid weigher classes (for ``weight_classes``)."""
    return [ext.plugin for ext in extension.ExtensionManager(NAMESPACE)]

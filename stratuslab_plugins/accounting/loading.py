"""Finding extractors and messengers by name, through stevedore.

The names come from ``[accounting] extractors`` and ``messengers``; the
plugins from the entry-point namespaces below, so a site adds its own
without touching this package. An unknown name is a configuration error
that names the option and what is installed.
"""

import stevedore

from stratuslab_plugins.accounting import exceptions

EXTRACTORS_NAMESPACE = 'stratuslab.accounting.extractors'
MESSENGERS_NAMESPACE = 'stratuslab.accounting.messengers'


def _load(namespace, names, option):
    """Return ``{name: plugin class}`` for ``names``, in their order."""
    names = list(names)
    failures = []

    def on_failure(manager, entrypoint, exc):
        failures.append('%s (%s)' % (entrypoint.name, exc))

    manager = stevedore.NamedExtensionManager(
        namespace, names=names, invoke_on_load=False, name_order=True,
        on_load_failure_callback=on_failure)
    if failures:
        raise exceptions.ConfigurationError(
            '[accounting] %s: cannot load %s' % (option, ', '.join(failures)))
    found = {ext.name: ext.plugin for ext in manager}
    missing = [name for name in names if name not in found]
    if missing:
        installed = sorted(stevedore.ExtensionManager(namespace).names())
        raise exceptions.ConfigurationError(
            '[accounting] %s names %s, which %s not installed; installed: '
            '%s.' % (option, ', '.join(missing),
                     'is' if len(missing) == 1 else 'are',
                     ', '.join(installed) or 'none'))
    return {name: found[name] for name in names}


def extractor_classes(names):
    """Return ``{name: Extractor subclass}`` for the named extractors."""
    return _load(EXTRACTORS_NAMESPACE, names, 'extractors')


def messenger_classes(names):
    """Return ``{name: Messenger subclass}`` for the named messengers."""
    return _load(MESSENGERS_NAMESPACE, names, 'messengers')

"""Functional tests: real services started by the tests themselves.

Nova's functional harness must patch the standard library before anything
else imports it, as Nova's own functional package does. Nova 34 reads
``OS_NOVA_DISABLE_EVENTLET_PATCHING``; we leave the choice to it so that the
harness runs the way Nova's own gate runs it.
"""

import os

# What eventlet and Nova say at import about eventlet's deprecation is
# not ours to act on, and comes before any test's output is captured:
# silenced as the sandbox silences it (importing stratuslab_plugins.cmd
# filters eventlet's warning; nothing here imports threading users).
from stratuslab_plugins.cmd import sandbox as sandbox_cmd  # noqa: E402

sandbox_cmd.quiet_third_party_warnings()

# Nova's harness caches in an "oslo_cache.dict" region. dogpile.cache finds
# a backend it was not told of by loading every "dogpile.cache" entry point
# (stevedore), oslo_cache.memcache_pool's included, which needs
# python-memcached (no dependency of ours): an error line on stderr, once
# per test worker, before any test's output is captured. Told of the one
# backend the harness uses, through dogpile's own API, it loads only that.
import dogpile.cache  # noqa: E402

dogpile.cache.register_backend(
    'oslo_cache.dict', 'oslo_cache.backends.dictionary', 'DictCacheBackend')

from nova import monkey_patch  # noqa: E402

monkey_patch.patch()


def load_tests(loader, standard_tests, pattern):
    # Each test's logs and output are kept and shown only if it fails.
    from tests import capture
    return capture.load_package_tests(loader, standard_tests, pattern,
                                      os.path.dirname(__file__))

"""Unit tests: fast, no network.

Some unit tests use Nova's own fakes (``nova.tests.unit``), whose package
applies Nova's concurrency choice when it is imported. Imported halfway
through a test run, eventlet monkey patching would leave the process half
patched (threads and sockets created before it hang). So the choice is
made here, before any test module is imported: native threading, the mode
Nova 34 recommends (eventlet mode is deprecated), and eventlet imports
are refused from then on. When a functional test imports a unit-test
helper, its package has already patched the process with eventlet, and
that choice stands.
"""

import os
import sys

if 'eventlet' not in sys.modules:
    os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
    from nova import monkey_patch

    monkey_patch.patch()


def load_tests(loader, standard_tests, pattern):
    # Each test's logs and output are kept and shown only if it fails.
    from tests import capture
    return capture.load_package_tests(loader, standard_tests, pattern,
                                      os.path.dirname(__file__))

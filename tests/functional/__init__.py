"""Functional tests: real services started by the tests themselves.

Nova's functional harness must patch the standard library before anything
else imports it, as Nova's own functional package does. Nova 34 reads
``OS_NOVA_DISABLE_EVENTLET_PATCHING``; we leave the choice to it so that the
harness runs the way Nova's own gate runs it.
"""

from nova import monkey_patch

monkey_patch.patch()

"""The in-process Nova harness, for the functional tests.

It lives in :mod:`stratuslab_plugins.sandbox.nova` so that the sandbox
command starts the very same Nova the tests do.
"""

from stratuslab_plugins.sandbox.nova import NovaTestCase  # noqa: F401
from stratuslab_plugins.sandbox.nova import nova_api_paste_config  # noqa

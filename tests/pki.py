"""The tests' throw-away PKI, shared with the sandbox.

It lives in :mod:`stratuslab_plugins.sandbox.pki`; this module keeps the
short import path the tests use. It sits outside tests.unit and
tests.functional on purpose: importing those packages applies a
concurrency choice (see their __init__.py) a helper must not impose.
"""

from stratuslab_plugins.sandbox.pki import Identity  # noqa: F401
from stratuslab_plugins.sandbox.pki import issue  # noqa: F401
from stratuslab_plugins.sandbox.pki import make_ca  # noqa: F401
from stratuslab_plugins.sandbox.pki import make_crl  # noqa: F401
from stratuslab_plugins.sandbox.pki import one_line  # noqa: F401
from stratuslab_plugins.sandbox.pki import subject_hash  # noqa: F401
from stratuslab_plugins.sandbox.pki import write_ca_dir  # noqa: F401
from stratuslab_plugins.sandbox.pki import write_crl  # noqa: F401

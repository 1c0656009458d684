"""The tests' oracle: the package's strict APEL reader.

:mod:`stratuslab_plugins.accounting.apel_reader` reads messages as the
APEL repository does; the tests keep this short name for it.
"""

from stratuslab_plugins.accounting.apel_reader import parse  # noqa: F401
from stratuslab_plugins.accounting.apel_reader import Rejected  # noqa: F401

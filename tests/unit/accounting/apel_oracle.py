"""The tests' oracle: the package's strict APEL reader.

:mod:`stratuslab_plugins.accounting.apel_reader` reads messages as the
APEL repository does; the tests keep this short name for it.
"""

from stratuslab_plugins.accounting.apel_reader import parse
from stratuslab_plugins.accounting.apel_reader import Rejected  # noqa: F401
from stratuslab_plugins.accounting import messages


def parse_cloud_records(found):
    """Return ``{VMUUID: fields}`` of cloud records, as APEL reads them.

    The records are packed as the ``ssm`` messenger packs them and must fit
    in one message (100 records at most).
    """
    packer = messages.Packer(messages.CLOUD)
    bodies = [m.body for rec in found for m in packer.add(rec)]
    bodies += [m.body for m in packer.flush()]
    [body] = bodies
    return {fields['VMUUID']: fields for fields in parse(body)}

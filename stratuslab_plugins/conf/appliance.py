"""Options of the appliance pillar.

Filled in by the appliance pieces as they land.
"""


def register_opts(conf):
    """Register this area's options on ``conf``."""


def list_opts():
    return []

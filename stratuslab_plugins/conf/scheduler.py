"""Options of the scheduler pillar.

Filled in by the scheduler pieces as they land.
"""


def register_opts(conf):
    """Register this area's options on ``conf``."""


def list_opts():
    return []

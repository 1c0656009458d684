"""Options of the accounting pillar.

Filled in by the accounting pieces as they land.
"""


def register_opts(conf):
    """Register this area's options on ``conf``."""


def list_opts():
    return []

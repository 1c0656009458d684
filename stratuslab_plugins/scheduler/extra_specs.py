"""Validators of the ``grid:`` flavor extra specs, for Nova's API.

Registered in the ``nova.api.extra_spec_validators`` entry-point namespace
as ``grid``; nova-api loads them at start-up, and from then on answers
HTTP 400 to ``openstack flavor set --property grid:min_hepscore=fast`` and
to any ``grid:`` key it does not know.

This module must import nothing but Nova and the standard-library-only
``grid.keys`` and ``grid.values``: with Nova 34 and stevedore 5.10, a
validator module that fails to import makes Nova's own failure callback
raise (``'EntryPoint' object has no attribute 'module_name'``) and
nova-api does not start.

Nova's validators know ``str`` (with a pattern), ``int`` (with bounds)
and ``bool``; a decimal number is a ``str`` with a pattern. The patterns
and bounds are those the filters read the values with (``grid.values``),
so nova-api refuses every value a filter would refuse: a 401-digit
``grid:max_lifetime``, ``grid:min_hepscore=1e999`` or ``nan``, a VO name
of 300 characters. (Scheduler hints have no such hook in Nova: the
filters ignore a bad ``grid_lifetime`` or ``grid_vo`` hint with one
warning.)
"""

from nova.api.validation.extra_specs import base

from stratuslab_plugins.grid import keys
from stratuslab_plugins.grid import values

EXTRA_SPEC_VALIDATORS = [
    base.ExtraSpecValidator(
        name=keys.EXTRA_SPEC_VO,
        description=(
            'The Virtual Organisation whose instances this flavor boots; '
            'wins over the hint and the project\'s VO.'),
        value={'type': str, 'pattern': values.VO_PATTERN,
               'description': 'A VO name, such as atlas or vo.example.org'},
    ),
    base.ExtraSpecValidator(
        name=keys.EXTRA_SPEC_MIN_HEPSCORE,
        description='The least per-core HEPscore23 of a host.',
        value={'type': str, 'pattern': values.POSITIVE_NUMBER_PATTERN,
               'description': (
                   'A positive decimal number, such as 15.5, with at most '
                   '9 digits before the point and 20 after')},
    ),
    base.ExtraSpecValidator(
        name=keys.EXTRA_SPEC_MAX_LIFETIME,
        description=(
            'Seconds an instance of this flavor is expected to live at '
            'most; hosts with a downtime before then are avoided.'),
        value={'type': int, 'min': 1, 'max': values.MAX_LIFETIME},
    ),
    base.ExtraSpecValidator(
        name=keys.EXTRA_SPEC_PREEMPTIBLE,
        description=(
            'Instances may be killed when the batch system needs the host '
            'back; only such instances go to batch worker nodes.'),
        value={'type': bool},
    ),
]


def register():
    return EXTRA_SPEC_VALIDATORS

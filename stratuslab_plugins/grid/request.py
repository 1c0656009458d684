"""What a boot request asks of the grid, from its flavor, hints and project.

Read once per request (never per host) by the scheduler adapters, from
plain values: the flavor's extra specs, the scheduler hints and the
project id, with the VO map.

Which source wins:

* VO: the flavor's ``grid:vo``, else the hint ``grid_vo``, else the VO of
  the project in the VO map, else none.
* Lifetime: the smaller of ``grid:max_lifetime`` and the hint
  ``grid_lifetime`` (a user may promise a shorter life than the flavor's
  cap, never a longer one); none when neither is given.
* ``grid:preemptible``, ``grid:min_hepscore``, ``accounting:benchmark_*``:
  the flavor only.

A malformed value (possible on flavors created before the extra-spec
validators were installed, or in a hint: nova-api checks no hint of ours)
is reported in ``problems`` and left unset; each filter documents what an
unset value means to it. Every value is read with the bounds of
``grid.values`` (a lifetime of at most a century, numbers of at most nine
digits, a VO name of at most 255 characters, text only: a hint given
twice arrives as a list), so nothing a user sends can make a filter
overflow or raise.
"""

import collections

from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import keys
from stratuslab_plugins.grid import values


class GridRequest(collections.namedtuple('GridRequest', [
        'vo', 'lifetime', 'preemptible', 'min_hepscore', 'benchmark_type',
        'benchmark_value', 'problems'])):
    """The grid side of one request."""

    __slots__ = ()


def _parsed(problems, parse, key, value):
    if value is None:
        return None
    try:
        return parse(key, value)
    except exceptions.MetadataValueError as exc:
        problems.append(exc)
        return None


def build_request(extra_specs, hints, project_id, vo_map):
    """Return the :class:`GridRequest` of one boot request.

    :param extra_specs: the flavor's extra specs (a mapping).
    :param hints: ``{hint name: value}`` for the grid hints present.
    :param project_id: the project the instance belongs to.
    :param vo_map: an object with ``vo_for_project(project_id)``.
    """
    problems = []
    vo = (_parsed(problems, values.parse_vo, keys.EXTRA_SPEC_VO,
                  extra_specs.get(keys.EXTRA_SPEC_VO) or None)
          or _parsed(problems, values.parse_vo, keys.HINT_VO,
                     hints.get(keys.HINT_VO) or None)
          or (vo_map.vo_for_project(project_id) if project_id else None))
    lifetimes = [
        _parsed(problems, values.parse_seconds, keys.EXTRA_SPEC_MAX_LIFETIME,
                extra_specs.get(keys.EXTRA_SPEC_MAX_LIFETIME)),
        _parsed(problems, values.parse_seconds, keys.HINT_LIFETIME,
                hints.get(keys.HINT_LIFETIME)),
    ]
    lifetimes = [t for t in lifetimes if t is not None]
    return GridRequest(
        vo=vo or None,
        lifetime=min(lifetimes) if lifetimes else None,
        preemptible=bool(_parsed(
            problems, values.parse_bool, keys.EXTRA_SPEC_PREEMPTIBLE,
            extra_specs.get(keys.EXTRA_SPEC_PREEMPTIBLE))),
        min_hepscore=_parsed(
            problems, values.parse_positive_number,
            keys.EXTRA_SPEC_MIN_HEPSCORE,
            extra_specs.get(keys.EXTRA_SPEC_MIN_HEPSCORE)),
        benchmark_type=extra_specs.get(keys.EXTRA_SPEC_BENCHMARK_TYPE),
        benchmark_value=_parsed(
            problems, values.parse_positive_number,
            keys.EXTRA_SPEC_BENCHMARK_VALUE,
            extra_specs.get(keys.EXTRA_SPEC_BENCHMARK_VALUE)),
        problems=tuple(problems))

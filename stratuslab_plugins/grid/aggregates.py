"""Aggregate metadata, parsed once per aggregate and combined per host.

An operator describes hosts by setting ``grid_*`` keys on host aggregates
(``openstack aggregate set --property grid_vos=atlas,cms AGG``). Nova hands
a filter, for every host, the list of that host's aggregates; the same
aggregate objects are shared by all their hosts. :class:`AggregateCache`
parses an aggregate's metadata the first time it is seen and reuses the
result for every other host and request until Nova replaces the aggregate
object (nova-scheduler's HostManager swaps in a new object on every
aggregate update, see ``HostManager._update_aggregate`` in Nova 34), so
parsing costs once per aggregate per update, not once per host.

A malformed value (a bad date, not a number, an unknown state) is dropped
from that aggregate's facts with one warning per aggregate per update; the
other keys of the aggregate still count, and nothing raises.

When a host is in several aggregates their facts combine as follows
(the most restrictive wins, so that one aggregate cannot loosen another):

* ``grid_vos``: union of the lists (as Nova's
  AggregateMultiTenancyIsolation does for projects);
* ``grid_partition``: ``batch`` over ``shared`` over ``cloud``;
* ``grid_downtime``: every window counts;
* ``grid_hepscore``, ``grid_energy_efficiency``: the lowest value;
* ``grid_power_state``: ``standby`` if any says so;
* ``grid_failure_domain``: the first in name order.
"""

import collections
import logging

from stratuslab_plugins.grid import downtime
from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import keys
from stratuslab_plugins.grid import values

LOG = logging.getLogger(__name__)

_PARTITION_RANK = {keys.PARTITION_CLOUD: 0, keys.PARTITION_SHARED: 1,
                   keys.PARTITION_BATCH: 2}


class AggregateFacts(collections.namedtuple('AggregateFacts', [
        'vos', 'partition', 'downtimes', 'hepscore', 'failure_domain',
        'energy_efficiency', 'power_state', 'multipliers'])):
    """What one aggregate says about its hosts (None: says nothing).

    ``multipliers`` maps the ``grid_*_weight_multiplier`` keys present to
    their float values.
    """

    __slots__ = ()


def _parse_vos(key, value):
    # An empty list dedicates the host to no VO at all: isolation fails
    # closed rather than opening the host to everyone over a typo.
    return frozenset(values.parse_list(value))


def _parse_text(key, value):
    text = str(value).strip()
    if not text:
        raise exceptions.MetadataValueError(key, value, 'a non-empty name')
    return text


# One parser per key: field name, metadata key, parse(key, value).
_PARSERS = (
    ('vos', keys.AGGREGATE_VOS, _parse_vos),
    ('partition', keys.AGGREGATE_PARTITION,
     lambda k, v: values.parse_choice(k, v, keys.PARTITIONS)),
    ('downtimes', keys.AGGREGATE_DOWNTIME, downtime.parse_windows),
    ('hepscore', keys.AGGREGATE_HEPSCORE, values.parse_positive_number),
    ('failure_domain', keys.AGGREGATE_FAILURE_DOMAIN, _parse_text),
    ('energy_efficiency', keys.AGGREGATE_ENERGY_EFFICIENCY,
     values.parse_positive_number),
    ('power_state', keys.AGGREGATE_POWER_STATE,
     lambda k, v: values.parse_choice(k, v, keys.POWER_STATES)),
)

NO_FACTS = AggregateFacts(None, None, (), None, None, None, None, {})

MULTIPLIER_KEYS = (
    keys.AGGREGATE_ENERGY_WEIGHT_MULTIPLIER,
    keys.AGGREGATE_BENCHMARK_WEIGHT_MULTIPLIER,
    keys.AGGREGATE_RESILIENCE_WEIGHT_MULTIPLIER,
    keys.AGGREGATE_DRAIN_WEIGHT_MULTIPLIER,
)


def _parse_multiplier(key, value):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise exceptions.MetadataValueError(key, value, 'a number')


def parse_metadata(metadata):
    """Parse the ``grid_*`` keys of one aggregate's metadata.

    :returns: ``(AggregateFacts, [MetadataValueError, ...])``; a bad value
        leaves its field unset and adds one error to the list.
    """
    fields = {}
    problems = []
    for field, key, parse in _PARSERS:
        if key in metadata:
            try:
                fields[field] = parse(key, metadata[key])
            except exceptions.MetadataValueError as exc:
                problems.append(exc)
    multipliers = {}
    for key in MULTIPLIER_KEYS:
        if key in metadata:
            try:
                multipliers[key] = _parse_multiplier(key, metadata[key])
            except exceptions.MetadataValueError as exc:
                problems.append(exc)
    fields['multipliers'] = multipliers
    return NO_FACTS._replace(**fields), problems


class AggregateCache(object):
    """Parsed facts of each aggregate, reparsed when Nova replaces it.

    The cache keeps, per aggregate id, the metadata dict it parsed and the
    result; an identity check (``is``) tells whether the aggregate is the
    one already parsed, which costs far less than comparing or hashing the
    metadata on every host.
    """

    def __init__(self):
        self._entries = {}
        self._hosts = {}

    def facts(self, aggregate):
        """Return the :class:`AggregateFacts` of a Nova aggregate."""
        metadata = aggregate.metadata
        entry = self._entries.get(aggregate.id)
        if entry is not None and entry[0] is metadata:
            return entry[1]
        facts, problems = parse_metadata(metadata)
        if problems:
            LOG.warning('Aggregate %s (id %s) has malformed grid metadata, '
                        'ignored for its hosts: %s',
                        getattr(aggregate, 'name', '?'), aggregate.id,
                        '; '.join(str(p) for p in problems))
        self._entries[aggregate.id] = (metadata, facts)
        return facts

    def host_facts(self, aggregates):
        """Return the facts of every aggregate of a host, as a list."""
        return [self.facts(agg) for agg in aggregates]

    def host_profile(self, host_key, aggregates):
        """Return the :class:`HostProfile` of a host, once per request.

        Nova gives each host state a new list of aggregates on every
        request (``HostState.update``), so the profile computed for that
        list object serves every grid filter and weigher of the request,
        and is computed again on the next one.

        :param host_key: a hashable naming the host; a collision costs a
            recomputation, never a wrong answer.
        :param aggregates: the host state's list of aggregates.
        """
        entry = self._hosts.get(host_key)
        if entry is not None and entry[0] is aggregates:
            return entry[1]
        profile = combine(self.host_facts(aggregates))
        self._hosts[host_key] = (aggregates, profile)
        return profile


def host_vos(facts_list):
    """Return the VOs a host is dedicated to, or None if it is not."""
    vos = None
    for facts in facts_list:
        if facts.vos is not None:
            vos = facts.vos if vos is None else vos | facts.vos
    return vos


def host_partition(facts_list):
    """Return the most restrictive ``grid_partition`` of a host, or None."""
    found = None
    for facts in facts_list:
        if facts.partition is not None and (
                found is None or _PARTITION_RANK[facts.partition]
                > _PARTITION_RANK[found]):
            found = facts.partition
    return found


def host_downtimes(facts_list):
    """Return every downtime window the aggregates of a host declare."""
    windows = ()
    for facts in facts_list:
        if facts.downtimes:
            windows = windows + facts.downtimes
    return windows


def _lowest(numbers):
    numbers = [n for n in numbers if n is not None]
    return min(numbers) if numbers else None


def host_hepscore(facts_list):
    """Return the lowest per-core HEPscore23 declared for a host, or None."""
    return _lowest(f.hepscore for f in facts_list)


def host_energy_efficiency(facts_list):
    """Return the lowest HEPscore-per-watt declared for a host, or None."""
    return _lowest(f.energy_efficiency for f in facts_list)


def host_in_standby(facts_list):
    """Return True when an aggregate says the host is in standby."""
    return any(f.power_state == keys.POWER_STANDBY for f in facts_list)


def host_failure_domain(facts_list):
    """Return the failure domain of a host (first by name), or None."""
    domains = [f.failure_domain for f in facts_list
               if f.failure_domain is not None]
    return min(domains) if domains else None


def host_multipliers(facts_list):
    """Return ``{multiplier key: value}``; the lowest value when several.

    The lowest, as Nova's ``get_weight_multiplier`` takes for its own
    multipliers when a host's aggregates disagree.
    """
    found = {}
    for facts in facts_list:
        for key, value in facts.multipliers.items():
            found[key] = min(value, found.get(key, value))
    return found


class HostProfile(collections.namedtuple('HostProfile', [
        'vos', 'partition', 'downtimes', 'hepscore', 'failure_domain',
        'energy_efficiency', 'standby', 'multipliers'])):
    """What a host's aggregates, combined, say about it."""

    __slots__ = ()


def combine(facts_list):
    """Return the :class:`HostProfile` of a host's aggregate facts."""
    return HostProfile(
        vos=host_vos(facts_list),
        partition=host_partition(facts_list),
        downtimes=host_downtimes(facts_list),
        hepscore=host_hepscore(facts_list),
        failure_domain=host_failure_domain(facts_list),
        energy_efficiency=host_energy_efficiency(facts_list),
        standby=host_in_standby(facts_list),
        multipliers=host_multipliers(facts_list))

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

A malformed value (a bad date, not a number, a number out of bounds or
not finite, an unknown state) is dropped from that aggregate's facts with
one warning per aggregate per update; the other keys of the aggregate
still count, and nothing raises.

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
                multipliers[key] = values.parse_multiplier(key, metadata[key])
            except exceptions.MetadataValueError as exc:
                problems.append(exc)
    fields['multipliers'] = multipliers
    return NO_FACTS._replace(**fields), problems


class AggregateCache(object):
    """Parsed facts of each aggregate, reparsed when Nova replaces it.

    Facts are keyed by the aggregate object itself (its ``id()``, guarded
    by an identity check), so a hit costs no attribute read of the
    versioned object; the entry of an aggregate Nova replaced is dropped
    when its successor is parsed, so the cache holds one entry per
    aggregate.
    """

    def __init__(self):
        self._by_object = {}
        self._object_of_aggregate = {}
        self._hosts = {}
        #: The multiplier keys any aggregate ever carried: a weigher whose
        #: key is absent needs no look at the hosts' profiles.
        self.multiplier_keys = set()

    def facts(self, aggregate):
        """Return the :class:`AggregateFacts` of a Nova aggregate."""
        entry = self._by_object.get(id(aggregate))
        if entry is not None and entry[0] is aggregate:
            return entry[1]
        return self._parse(aggregate)

    def _parse(self, aggregate):
        facts, problems = parse_metadata(aggregate.metadata)
        if problems:
            LOG.warning('Aggregate %s (id %s) has malformed grid metadata, '
                        'ignored for its hosts: %s',
                        getattr(aggregate, 'name', '?'), aggregate.id,
                        '; '.join(str(p) for p in problems))
        replaced = self._object_of_aggregate.get(aggregate.id)
        if replaced is not None:
            self._by_object.pop(replaced, None)
        self.multiplier_keys.update(facts.multipliers)
        self._by_object[id(aggregate)] = (aggregate, facts)
        self._object_of_aggregate[aggregate.id] = id(aggregate)
        return facts

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
        profile = combine([self.facts(agg) for agg in aggregates])
        self._hosts[host_key] = (aggregates, profile)
        return profile


class HostProfile(collections.namedtuple('HostProfile', [
        'vos', 'partition', 'downtimes', 'hepscore', 'failure_domain',
        'energy_efficiency', 'standby', 'multipliers'])):
    """What a host's aggregates, combined, say about it.

    ``vos`` is None when the host is dedicated to no VO; ``standby`` is a
    bool; ``multipliers`` maps ``grid_*_weight_multiplier`` keys to values.
    """

    __slots__ = ()


NO_PROFILE = HostProfile(None, None, (), None, None, None, False, {})


def _lowest(current, value):
    if value is None:
        return current
    return value if current is None or value < current else current


def combine(facts_list):
    """Return the :class:`HostProfile` of a host's aggregate facts.

    One pass over the host's aggregates, applying the rules of this
    module's docstring (the most restrictive value wins); for the weight
    multipliers, the lowest, as Nova's ``get_weight_multiplier`` does.
    """
    if not facts_list:
        return NO_PROFILE
    vos = partition = hepscore = domain = efficiency = None
    downtimes = ()
    standby = False
    multipliers = {}
    for facts in facts_list:
        if facts.vos is not None:
            vos = facts.vos if vos is None else vos | facts.vos
        if facts.partition is not None and (
                partition is None or _PARTITION_RANK[facts.partition]
                > _PARTITION_RANK[partition]):
            partition = facts.partition
        if facts.downtimes:
            downtimes += facts.downtimes
        hepscore = _lowest(hepscore, facts.hepscore)
        efficiency = _lowest(efficiency, facts.energy_efficiency)
        if facts.failure_domain is not None and (
                domain is None or facts.failure_domain < domain):
            domain = facts.failure_domain
        standby = standby or facts.power_state == keys.POWER_STANDBY
        for key, value in facts.multipliers.items():
            multipliers[key] = _lowest(multipliers.get(key), value)
    return HostProfile(vos, partition, downtimes, hepscore, domain,
                       efficiency, standby, multipliers)

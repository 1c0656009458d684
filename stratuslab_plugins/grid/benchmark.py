"""Benchmarks: what a host's cores are worth; does a flavor's claim hold.

Aggregates carry the per-core HEPscore23 of their hosts (``grid_hepscore``).
A flavor may ask for a minimum (``grid:min_hepscore``), and a flavor that
quotes a benchmark to the accounting (cASO's ``accounting:benchmark_value``
and ``accounting:benchmark_type``) must land on hosts whose benchmark is
close to it, or the usage records it produces would not be true.
"""

from stratuslab_plugins.grid import keys

# benchmark_type values that name the benchmark of grid_hepscore. An
# absent type is taken as HEPscore23 too, cASO's own default type being
# site-configured.
_SAME_BENCHMARK = (keys.BENCHMARK_TYPE_HEPSCORE.lower(), 'hepscore', '')


def meets_minimum(host_score, minimum):
    """Return True when ``host_score`` reaches ``minimum``.

    A host with no declared score cannot prove it: it fails.
    """
    return host_score is not None and host_score >= minimum


def comparable(benchmark_type):
    """Return True when a flavor's benchmark type is HEPscore23."""
    return str(benchmark_type or '').strip().lower() in _SAME_BENCHMARK


def within_tolerance(host_score, quoted, tolerance):
    """Return True when ``host_score`` is within ``tolerance`` of ``quoted``.

    :param tolerance: a fraction of ``quoted`` (0.1 = 10 %).
    """
    return (host_score is not None
            and abs(host_score - quoted) <= tolerance * quoted)

"""Site knowledge shared by every pillar.

What a grid site knows about itself: which project belongs to which VO,
what its aggregates declare (VOs, partitions, downtimes, benchmarks,
failure domains, energy), and the names of those contract keys. Nothing in
this package imports Nova or Glance, so the policy is tested with plain
data and read in one place.
"""

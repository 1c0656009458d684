"""Benchmarks: each figure printed beside a baseline measured in the same run.

Every part is a module of this package with a ``run()`` function; it prints
lines ``NAME: VALUE UNIT (baseline NAME: VALUE UNIT, ratio R)``. Targets are
read by people from these lines; nothing here fails the test suite.
"""

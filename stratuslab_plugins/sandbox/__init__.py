"""Real services on one machine, for the sandbox and the functional tests.

Each module starts one real component the plugins talk to (Nova in-process
through its own functional harness, an OCI registry, a glance-api process)
and stops it again. They import the service's code only when used: Nova,
Placement and Glance are test dependencies, never needed by the plugins
themselves.
"""

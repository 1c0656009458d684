"""The read-only usage API, ``stratuslab-accounting-api``.

A small WSGI service over the accounting ledger for the Horizon panels
and ``openstack accounting``: usage per VO or project over a period,
instance records with their send state, and the outgoing APEL queue.
keystonemiddleware checks the token, oslo.policy what it may see
(:mod:`.policy`); :mod:`.reports` computes, :mod:`.app` serves,
:mod:`.client` is what callers use.
"""

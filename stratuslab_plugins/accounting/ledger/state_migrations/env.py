"""Alembic environment of the extraction-state tables.

Run only through :func:`stratuslab_plugins.accounting.ledger.state.upgrade`,
which hands over an open connection (``config.attributes['connection']``):
the ledger's engine, with its SQLite locking, is the one that migrates.
"""

from alembic import context

from stratuslab_plugins.accounting.ledger import engine
from stratuslab_plugins.accounting.ledger import state

engine.run_migrations(context, state.metadata, state.VERSION_TABLE)

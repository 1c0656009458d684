"""Alembic environment of the usage tables.

Run only through :func:`stratuslab_plugins.accounting.ledger.usage.upgrade`,
which hands over an open connection (``config.attributes['connection']``):
the ledger's engine, with its SQLite locking, is the one that migrates.
"""

from alembic import context

from stratuslab_plugins.accounting.ledger import engine
from stratuslab_plugins.accounting.ledger import usage

engine.run_migrations(context, usage.metadata, usage.VERSION_TABLE)

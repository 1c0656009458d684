"""Alembic environment of the usage tables.

Run only through
:func:`stratuslab_plugins.accounting.ledger.usage_schema.upgrade`, which
hands over an open connection (``config.attributes['connection']``):
the ledger's engine, with its SQLite locking, is the one that migrates.
"""

from alembic import context

from stratuslab_plugins.accounting.ledger import engine
from stratuslab_plugins.accounting.ledger import usage_schema

engine.run_migrations(context, usage_schema.metadata,
                      usage_schema.VERSION_TABLE)

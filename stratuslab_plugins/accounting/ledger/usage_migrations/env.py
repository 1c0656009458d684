"""Alembic environment of the usage tables.

Run only through :func:`stratuslab_plugins.accounting.ledger.usage.upgrade`,
which hands over an open connection (``config.attributes['connection']``):
the ledger's engine, with its SQLite locking, is the one that migrates.
"""

from alembic import context

from stratuslab_plugins.accounting.ledger import usage

connection = context.config.attributes['connection']
context.configure(connection=connection,
                  target_metadata=usage.metadata,
                  version_table=usage.VERSION_TABLE,
                  # SQLite alters tables by copying them: batch mode.
                  render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

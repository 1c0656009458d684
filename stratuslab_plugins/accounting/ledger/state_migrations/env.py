"""Alembic environment of the extraction-state tables.

Run only through :func:`stratuslab_plugins.accounting.ledger.state.upgrade`,
which hands over an open connection (``config.attributes['connection']``):
the ledger's engine, with its SQLite locking, is the one that migrates.
"""

from alembic import context

from stratuslab_plugins.accounting.ledger import state

connection = context.config.attributes['connection']
context.configure(connection=connection,
                  target_metadata=state.metadata,
                  version_table=state.VERSION_TABLE,
                  # SQLite alters tables by copying them: batch mode.
                  render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

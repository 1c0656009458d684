"""A fixture for tests that run a console script's ``main()``."""

import logging

import fixtures


class RootLogging(fixtures.Fixture):
    """Remove the root-logger handlers added during the test.

    ``main()`` runs oslo.log's setup, which adds a handler on the root
    logger writing to ``log_file``; left behind, it writes into a deleted
    directory for every later test of the worker.
    """

    def _setUp(self):
        root = logging.getLogger()
        before = list(root.handlers)

        def restore():
            for handler in list(root.handlers):
                if handler not in before:
                    root.removeHandler(handler)
                    handler.close()
        self.addCleanup(restore)

"""The sandbox keeps its results, drops service data unless asked, and
starts each run from a clean work directory."""

import os

import fixtures
from oslotest import base

from stratuslab_plugins.sandbox import workdir as sandbox_dir


def leave_a_run(workdir):
    """Fill ``workdir`` as a run with --keep leaves it."""
    for name in ('registry/docker', 'glance/images', 'ca',
                 'outgoing/00000000'):
        os.makedirs(os.path.join(workdir, name))
    for name in ('ledger.sqlite', 'ledger.sqlite-wal', 'report.json',
                 'atlas.imagelist', 'outgoing/00000000/5f3a1b2c'):
        open(os.path.join(workdir, name), 'w').close()


class TestWorkdir(base.BaseTestCase):

    def test_results_stay_and_service_data_goes(self):
        workdir = self.useFixture(fixtures.TempDir()).path
        leave_a_run(workdir)

        removed = sandbox_dir.remove_service_data(workdir)

        self.assertEqual(['registry', 'glance', 'ca', 'ledger.sqlite',
                          'ledger.sqlite-wal'], removed)
        self.assertEqual(['atlas.imagelist', 'outgoing', 'report.json'],
                         sorted(os.listdir(workdir)))

    def test_a_new_run_starts_from_nothing_an_earlier_one_left(self):
        workdir = self.useFixture(fixtures.TempDir()).path
        leave_a_run(workdir)
        mine = os.path.join(workdir, 'notes.txt')
        open(mine, 'w').close()

        removed = sandbox_dir.start_clean(workdir)

        self.assertIn('outgoing', removed)
        self.assertIn('report.json', removed)
        # Only what the sandbox writes goes; the user's own files stay.
        self.assertEqual(['notes.txt'], os.listdir(workdir))

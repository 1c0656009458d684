"""The sandbox keeps its results and, unless asked, drops service data."""

import os

import fixtures
from oslotest import base

from stratuslab_plugins.sandbox import runner


class TestRemoveServiceData(base.BaseTestCase):

    def test_results_stay_and_service_data_goes(self):
        workdir = self.useFixture(fixtures.TempDir()).path
        for name in ('registry/docker', 'glance/images', 'ca',
                     'outgoing/00000000'):
            os.makedirs(os.path.join(workdir, name))
        for name in ('ledger.sqlite', 'ledger.sqlite-wal', 'report.json',
                     'atlas.imagelist'):
            open(os.path.join(workdir, name), 'w').close()

        removed = runner.remove_service_data(workdir)

        self.assertEqual(['registry', 'glance', 'ca', 'ledger.sqlite',
                          'ledger.sqlite-wal'], removed)
        self.assertEqual(['atlas.imagelist', 'outgoing', 'report.json'],
                         sorted(os.listdir(workdir)))

"""Run the sandbox scenario inside the in-process Nova.

Nova's functional harness is a test case: its fixtures (database, API,
Placement, services) are set up by ``setUp`` and torn down by cleanups.
The sandbox drives one such case programmatically, so the Nova it shows
is the very one the functional tests boot servers on.
"""

import logging
import os
import traceback

import testtools
import yaml

from stratuslab_plugins.conf import grid as grid_conf
from stratuslab_plugins.sandbox import nova
from stratuslab_plugins.sandbox import scenario
from stratuslab_plugins.sandbox import site
from stratuslab_plugins.sandbox import workdir as sandbox_dir


class SandboxNovaCase(nova.NovaTestCase):
    """Nova with our filters and weighers, on the sandbox's grid site.

    :attr:`workdir` and :attr:`out` are set by :func:`make_case` (or by a
    functional test subclass) before the case runs.
    """

    available_filters = (site.FILTERS_IMPORT,)
    enabled_filters = site.NOVA_DEFAULT_FILTERS + site.GRID_FILTERS
    weight_classes = (site.NOVA_WEIGHERS_IMPORT, site.WEIGHERS_IMPORT)
    stamp_notifications = True
    workdir = None
    out = None
    keep = True

    def configure_scheduler(self):
        super().configure_scheduler()
        mapping_file = os.path.join(self.workdir, 'vo-map.yaml')
        with open(mapping_file, 'w') as f:
            yaml.safe_dump(site.vo_mapping(), f)
        grid_conf.register_opts(nova.CONF)
        self.flags(site_name=site.SITE_NAME, vo_mapping_file=mapping_file,
                   group=grid_conf.GROUP)

    def run_scenario(self):
        """Run the scenario and return its report."""
        return scenario.Scenario(self, self.workdir, self.out,
                                 keep=self.keep).run()


def make_case(workdir, out, keep):
    class _Case(SandboxNovaCase):
        def test_scenario(self):
            self.report = self.run_scenario()

    _Case.workdir, _Case.out, _Case.keep = workdir, out, keep
    return _Case('test_scenario')


def run(workdir, keep, out):
    """Run the scenario once; return the process exit status."""
    removed = sandbox_dir.start_clean(workdir)
    if removed:
        out.write('Starting clean: removed what an earlier run left in %s '
                  '(%s)\n' % (workdir, ', '.join(removed)))
    case = make_case(workdir, out, keep)
    # Nova's thread pools log their shutdown after the harness has taken
    # its logging capture down: noise on the sandbox's console.
    logging.getLogger('nova.thread_pool_factory').setLevel(logging.WARNING)
    result = testtools.TestResult()
    case.run(result)
    if not keep:
        sandbox_dir.remove_service_data(workdir)
    problems = result.errors + result.failures
    for _test, details in problems:
        out.write(details if isinstance(details, str)
                  else ''.join(traceback.format_exception(details)))
    if problems:
        out.write('\nThe sandbox stopped on the error above; its work '
                  'directory is %s\n' % workdir)
        return 1
    out.write('\nDone. Outgoing APEL queue: %s\nReport: %s\n'
              % (os.path.join(workdir, 'outgoing'),
                 os.path.join(workdir, 'report.json')))
    return 0

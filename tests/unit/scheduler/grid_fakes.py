"""Nova's own fakes, dressed with grid metadata, for the scheduler tests.

Hosts are Nova's ``FakeHostState`` (``nova.tests.unit.scheduler.fakes``),
aggregates and request specs are real Nova objects; only the site view is
built here with a fixed VO map instead of one refreshed from Keystone.
"""

import itertools

import fixtures
from nova import objects
from nova.tests.unit.scheduler import fakes
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from stratuslab_plugins.grid import vo_map
from stratuslab_plugins.scheduler import site

objects.register_all()

_IDS = itertools.count(1)

VOS = vo_map.VOMap({'p-atlas': 'atlas', 'p-atlas2': 'atlas',
                    'p-cms': 'cms'})


def aggregate(name='agg', **metadata):
    """A Nova Aggregate with the given metadata."""
    return objects.Aggregate(id=next(_IDS), name=name, metadata=metadata,
                             hosts=[])


def host(name, *aggregates, **attributes):
    """A FakeHostState in ``aggregates``."""
    state = fakes.FakeHostState(name, name, dict(attributes))
    state.aggregates = list(aggregates)
    return state


def spec(project_id='p-atlas', hints=None, **extra_specs):
    """A RequestSpec with a flavor carrying ``extra_specs``.

    A hint's value is wrapped in a list unless it is one, as Nova's API
    does (a hint given twice is a list of two).
    """
    flavor = objects.Flavor(
        extra_specs={k.replace('__', ':'): v for k, v in extra_specs.items()})
    return objects.RequestSpec(
        project_id=project_id, flavor=flavor,
        scheduler_hints={k: v if isinstance(v, list) else [v]
                         for k, v in (hints or {}).items()})


class SchedulerTestCase(testtools.TestCase):
    """A fresh site view on a fresh configuration for every test."""

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(cfg.ConfigOpts()))
        self.conf.conf([], project='test')
        self.site = site.SiteView(self.conf.conf, vos=VOS)
        self.useFixture(fixtures.MonkeyPatch(
            'stratuslab_plugins.scheduler.site.get_site',
            lambda conf=None: self.site))

    def flags(self, **kwargs):
        for name, value in kwargs.items():
            self.conf.config(**{name: value, 'group': 'grid_scheduler'})
        # Files are watched from the view's creation: rebuild it.
        self.site.__init__(self.conf.conf, vos=VOS)

    def passing(self, filt, hosts, spec_obj):
        """Names of the hosts ``filt`` keeps, through filter_all."""
        return [h.host for h in filt.filter_all(hosts, spec_obj)]

"""Nova finds our filters, weighers and validators through entry points.

These load through the installed entry points (``pip install -e``), the
way nova-scheduler and nova-api do, so a broken entry point or an import
error in the validator module fails here.
"""

from nova.api.validation.extra_specs import validators
from nova import exception
from nova.scheduler import filters as nova_filters
from nova.scheduler import weights as nova_weights
import testtools

from stratuslab_plugins.scheduler import filters
from stratuslab_plugins.scheduler import weighers

FILTERS = {'GridVOIsolationFilter', 'GridDowntimeFilter',
           'GridPartitionFilter', 'GridBenchmarkFilter'}
WEIGHERS = {'GridEnergyWeigher', 'GridBenchmarkWeigher',
            'GridResilienceWeigher', 'GridDrainWeigher'}


class TestLoading(testtools.TestCase):

    def test_nova_loads_all_filters(self):
        handler = nova_filters.HostFilterHandler()
        classes = handler.get_matching_classes(
            ['nova.scheduler.filters.all_filters',
             'stratuslab_plugins.scheduler.filters.all_filters'])
        names = {cls.__name__ for cls in classes}

        self.assertTrue(FILTERS <= names)
        self.assertIn('ComputeFilter', names)
        self.assertEqual(FILTERS, {c.__name__ for c in filters.all_filters()})

    def test_nova_loads_all_weighers(self):
        handler = nova_weights.HostWeightHandler()
        classes = handler.get_matching_classes(
            ['nova.scheduler.weights.all_weighers',
             'stratuslab_plugins.scheduler.weighers.all_weighers'])

        self.assertTrue(WEIGHERS <= {cls.__name__ for cls in classes})
        self.assertEqual(WEIGHERS,
                         {c.__name__ for c in weighers.all_weighers()})

    def test_nova_api_loaded_the_grid_validators(self):
        self.assertIn('grid', validators.NAMESPACES)
        validators.validate('grid:min_hepscore', '15.5')
        validators.validate('grid:max_lifetime', '86400')
        validators.validate('grid:preemptible', 'true')
        validators.validate('grid:vo', 'vo.example.org')
        for name, value in (('grid:min_hepscore', 'fast'),
                            ('grid:max_lifetime', '0'),
                            ('grid:preemptible', 'maybe'),
                            ('grid:vo', 'at las'),
                            ('grid:unknown', 'x')):
            self.assertRaises(exception.ValidationError,
                              validators.validate, name, value)

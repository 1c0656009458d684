"""The inline SVG usage chart, from plain data."""

import re

import testtools

from stratuslab_plugins.dashboard.content.grid_usage import chart


def series(key, *hours):
    return {'key': key, 'points': [
        {'start': '2026-11-%02dT00:00:00+00:00' % (i + 1),
         'wall_hours': h, 'cpu_hours': h / 2} for i, h in enumerate(hours)]}


class ChartTest(testtools.TestCase):

    def test_no_series_draws_nothing(self):
        self.assertEqual('', chart.render([]))

    def test_one_bucket_and_zero_usage_still_draw(self):
        svg = chart.render([series('atlas', 0)])
        self.assertEqual(1, svg.count('<g class="series"'))
        # Centred, on the zero line.
        self.assertIn('<circle r="3" cx="333.0" cy="240.0"/>', svg)

    def test_scale_rounds_up_and_points_stay_inside(self):
        svg = chart.render([series('atlas', 3, 30), series('cms', 7, 0)],
                           metric='cpu_hours')
        self.assertIn('>15 h</text>', svg)
        ys = [float(y) for y in re.findall(r'cy="([0-9.]+)"', svg)]
        self.assertEqual(4, len(ys))
        self.assertTrue(all(chart.TOP <= y <= chart.HEIGHT - chart.BOTTOM
                            for y in ys))

    def test_unknown_values_are_gaps_not_zeros(self):
        data = series('atlas', 4, 8, 6, 2)
        data['points'][1]['cpu_hours'] = None
        svg = chart.render([data], metric='cpu_hours')
        # Two runs (bucket 0, buckets 2-3): one line, three points, and
        # nothing drawn at zero for bucket 1.
        self.assertEqual(1, svg.count('<polyline'))
        self.assertEqual(3, svg.count('<circle'))
        zero = chart.HEIGHT - chart.BOTTOM
        self.assertNotIn('cy="%.1f"' % zero, svg)

    def test_the_running_bucket_is_drawn_hollow_and_dashed(self):
        data = series('atlas', 4, 8, 1)
        data['points'][-1]['partial'] = True
        svg = chart.render([data])
        self.assertEqual(1, svg.count('<circle class="partial"'))
        self.assertIn('<title>so far</title>', svg)
        self.assertEqual(1, svg.count('<line class="partial"'))
        # The solid line stops at the last complete bucket.
        polyline = re.search(r'<polyline[^>]*points="([^"]+)"', svg).group(1)
        self.assertEqual(2, len(polyline.split()))

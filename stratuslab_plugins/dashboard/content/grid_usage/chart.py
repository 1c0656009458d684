"""The usage chart, drawn on the server as inline SVG.

Why SVG from Python rather than a JavaScript chart library: the site may
have no Internet access (no CDN), the page then needs no script to show
the chart (it prints, and it reads in a screenshot), and a test can
check the drawing from the HTML alone. One ``<g class="series">`` per VO
(``data-key`` names it), a polyline through its buckets, and a legend.

Honest about what is not known: a bucket whose value is None (CPU time
no agent measured) is a gap in the line, not a point at zero; a bucket
still running at the time of the request (``partial``) is drawn hollow,
reached by a dashed segment, and titled "so far".
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 150, 16, 40
# Colour-blind-safe palette (Okabe and Ito), cycled.
COLOURS = ('#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9',
           '#D55E00', '#F0E442', '#000000')


def _nice_max(value):
    if value <= 0:
        return 1.0
    step = 10 ** len(str(int(value))) / 10.0
    for factor in (1, 2, 2.5, 5, 10):
        if value <= step * factor:
            return step * factor
    return value


def _runs(points, metric):
    """Split bucket indexes into runs of known values (gaps at None)."""
    runs, current = [], []
    for index, point in enumerate(points):
        if point.get(metric) is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(index)
    if current:
        runs.append(current)
    return runs


def _line(points, metric, x, y):
    """The SVG of one series: solid runs, a dashed last step if partial."""
    parts = []
    for run in _runs(points, metric):
        last_partial = points[run[-1]].get('partial')
        solid = run[:-1] if last_partial else run
        if len(solid) > 1:
            parts.append('<polyline fill="none" stroke-width="2" '
                         'points="%s"/>' % ' '.join(
                             '%.1f,%.1f' % (x(i), y(points[i][metric]))
                             for i in solid))
        if last_partial and len(run) > 1:
            a, b = run[-2], run[-1]
            parts.append('<line class="partial" stroke-width="2" '
                         'stroke-dasharray="4 3" x1="%.1f" y1="%.1f" '
                         'x2="%.1f" y2="%.1f"/>' % (
                             x(a), y(points[a][metric]),
                             x(b), y(points[b][metric])))
        for i in run:
            coords = (x(i), y(points[i][metric]))
            if points[i].get('partial'):
                parts.append('<circle class="partial" r="4" cx="%.1f" '
                             'cy="%.1f" fill="#fff" stroke-width="2">'
                             '<title>so far</title></circle>' % coords)
            else:
                parts.append('<circle r="3" cx="%.1f" cy="%.1f"/>' % coords)
    return parts


def render(series, metric='wall_hours', unit='h'):
    """Return the SVG markup for ``[{'key', 'points': [...]}, ...]``.

    :param metric: the point field drawn (``wall_hours`` or
        ``cpu_hours``).
    """
    if not series:
        return ''
    count = max(len(s['points']) for s in series)
    top = _nice_max(max((p[metric] or 0) for s in series
                        for p in s['points']) if count else 0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(index):
        return LEFT + (plot_w * index / (count - 1) if count > 1
                       else plot_w / 2)

    def y(value):
        return TOP + plot_h - plot_h * (value or 0) / top

    parts = ['<svg class="stratuslab-usage-chart" role="img" '
             'xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'viewBox="0 0 %d %d">' % (WIDTH, HEIGHT, WIDTH, HEIGHT),
             '<title>%s per VO</title>' % escape(metric.replace('_', ' ')),
             '<g class="axes" stroke="#888" font-size="11" fill="#444">']
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        level = y(top * fraction)
        parts.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" '
                     'stroke-opacity="0.3"/>' % (LEFT, LEFT + plot_w,
                                                 level, level))
        parts.append('<text x="%d" y="%.1f" text-anchor="end" stroke="none">'
                     '%g %s</text>' % (LEFT - 4, level + 4, top * fraction,
                                       unit))
    labels = series[0]['points']
    for index in sorted({0, count // 2, count - 1}):
        if index < len(labels):
            parts.append('<text x="%.1f" y="%d" text-anchor="middle" '
                         'stroke="none">%s</text>' % (
                             x(index), HEIGHT - BOTTOM + 16,
                             escape(labels[index]['start'][:10])))
    parts.append('</g>')
    for number, item in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        parts.append('<g class="series" data-key="%s" stroke="%s" '
                     'fill="%s">' % (escape(item['key']), colour, colour))
        parts.extend(_line(item['points'], metric, x, y))
        legend_y = TOP + 14 + 18 * number
        parts.append('<rect x="%d" y="%d" width="12" height="12"/>'
                     % (WIDTH - RIGHT + 12, legend_y - 10))
        parts.append('<text x="%d" y="%d" stroke="none" font-size="12">%s'
                     '</text>' % (WIDTH - RIGHT + 30, legend_y,
                                  escape(item['key'])))
        parts.append('</g>')
    parts.append('</svg>')
    return mark_safe(''.join(parts))

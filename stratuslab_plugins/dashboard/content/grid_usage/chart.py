"""The usage chart, drawn on the server as inline SVG.

Why SVG from Python rather than a JavaScript chart library: the site may
have no Internet access (no CDN), the page then needs no script to show
the chart (it prints, and it reads in a screenshot), and a test can
check the drawing from the HTML alone. One ``<g class="series">`` per VO
(``data-key`` names it), a polyline through its buckets, and a legend.
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
        coords = [(x(i), y(p[metric])) for i, p in enumerate(item['points'])]
        parts.append('<g class="series" data-key="%s" stroke="%s" '
                     'fill="%s">' % (escape(item['key']), colour, colour))
        parts.append('<polyline fill="none" stroke-width="2" points="%s"/>'
                     % ' '.join('%.1f,%.1f' % c for c in coords))
        parts.extend('<circle r="3" cx="%.1f" cy="%.1f"/>' % c
                     for c in coords)
        legend_y = TOP + 14 + 18 * number
        parts.append('<rect x="%d" y="%d" width="12" height="12"/>'
                     % (WIDTH - RIGHT + 12, legend_y - 10))
        parts.append('<text x="%d" y="%d" stroke="none" font-size="12">%s'
                     '</text>' % (WIDTH - RIGHT + 30, legend_y,
                                  escape(item['key'])))
        parts.append('</g>')
    parts.append('</svg>')
    return mark_safe(''.join(parts))

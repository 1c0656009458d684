"""Configuration options of stratuslab-plugins, one module per area.

Each area module declares its options as module-level lists, offers
``register_opts(conf)`` for the code that uses them, and ``list_opts()``
for the generator. This module gathers them all for
``oslo-config-generator --namespace stratuslab_plugins`` (entry point
``oslo.config.opts``), so that ``tox -e genconfig`` writes a sample in
which an operator finds every option with its help.
"""

import importlib
import re
import textwrap

# One name per area module in this package. Adding an area means adding its
# module here; nothing else in this file changes.
AREAS = (
    'grid',
    'scheduler',
    'appliance',
    'image',
    'accounting',
    'usage',
    'api',
    'sync',
)


def _area_modules():
    return [importlib.import_module('%s.%s' % (__name__, area))
            for area in AREAS]


#: A line that starts a line of its own in help text: a list item
#: ("* ", "- ", "+ ", "1. "), a literal block line, a "<None>" value.
_OWN_LINE = re.compile(r'^(\s|[*+-] |\d+\. |<)')

#: oslo-config-generator's line width, less its "# " prefix.
SAMPLE_WIDTH = 68

#: Room kept on the help's last line for the " (string value)" tag the
#: generator appends there.
TYPE_TAG_ROOM = 23


def _paragraphs(text):
    """Yield the help's lines with each paragraph's lines joined."""
    joined = []
    for line in text.splitlines():
        joinable = (joined and line.strip() and joined[-1].strip()
                    and not _OWN_LINE.match(line)
                    and not joined[-1].rstrip().endswith('::')
                    and not joined[-1].startswith(' '))
        if joinable:
            joined[-1] = joined[-1].rstrip() + ' ' + line.strip()
        else:
            joined.append(line.rstrip())
    return joined


def _wrap(line, last_width):
    """Wrap one paragraph so that no line of it holds a lone word."""
    if _OWN_LINE.match(line) and line.startswith(' '):
        return [line]
    indent = '  ' if re.match(r'^[*+-] ', line) else ''
    best = [line]
    for width in range(SAMPLE_WIDTH, SAMPLE_WIDTH // 2, -1):
        lines = textwrap.wrap(line, width, subsequent_indent=indent,
                              break_long_words=False, break_on_hyphens=False)
        best = lines
        widow = len(lines) > 1 and len(lines[-1].split()) < 2
        if not widow and len(lines[-1]) <= last_width:
            break
    return best


def reflow_help(text):
    """Return ``text`` wrapped for the sample, with no lone-word lines.

    Help is written wrapped in the source, but oslo-config-generator wraps
    every source line on its own at 70 columns, which left a lone word on
    many lines of the sample. Here each paragraph is joined and wrapped
    once, as a whole, within the generator's width (so it wraps nothing
    more), choosing the width so that the last line is not a lone word.
    Blank lines, list items and indented (literal) lines keep their
    breaks.
    """
    if not text:
        return text
    lines = _paragraphs(text)
    wrapped = []
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        wrapped.extend(_wrap(line, SAMPLE_WIDTH - TYPE_TAG_ROOM if last
                             else SAMPLE_WIDTH) if line else [''])
    return '\n'.join(wrapped)


def list_opts():
    """Return ``[(group, [opts])]`` for every option of the project.

    Groups that several areas share are merged, so the sample shows each
    group once. Each option's help is reflowed (:func:`reflow_help`).
    """
    merged = {}
    for module in _area_modules():
        for group, opts in module.list_opts():
            for opt in opts:
                opt.help = reflow_help(opt.help)
            merged.setdefault(group, []).extend(opts)
    return [(group, opts) for group, opts in merged.items()]

"""Read the Quick start commands out of README.rst.

The fresh-machine check (``tools/fresh-machine-check.sh``) runs exactly
what the README tells a new user to run, read from the README itself, so
the two cannot drift apart. The Quick start is the first literal block
(the indented lines after a line ending in ``::``) under the section
titled ``Quick start``; each non-empty line of it is one shell command,
run as written (a trailing ``# comment`` included).

Usage: ``python3 tools/quick_start.py [README.rst]`` prints one command a
line. Standard library only: it runs on a machine that has nothing else.
"""

import sys

SECTION = 'Quick start'


class QuickStartError(Exception):
    """README.rst has no Quick start block to run."""


def _section_lines(lines, title):
    """Return the lines of the section ``title`` (up to the next title)."""
    for index, line in enumerate(lines[:-1]):
        underline = lines[index + 1]
        if line.strip() == title and underline.strip() and \
                set(underline.strip()) <= set('=-~^"\'`#*+'):
            start = index + 2
            break
    else:
        raise QuickStartError('README.rst has no %r section' % title)
    for end in range(start, len(lines) - 1):
        following = lines[end + 1].strip()
        if lines[end].strip() and not lines[end].startswith(' ') and \
                following and set(following) <= set('=-~^"\'`#*+') and \
                len(following) >= len(lines[end].strip()):
            return lines[start:end]
    return lines[start:]


def quick_start_commands(text):
    """Return the commands of the Quick start's first literal block.

    :param text: the whole README.rst.
    :raises QuickStartError: when there is no such section or block.
    """
    lines = _section_lines(text.splitlines(), SECTION)
    for index, line in enumerate(lines):
        if line.rstrip().endswith('::'):
            block = lines[index + 1:]
            break
    else:
        raise QuickStartError('the Quick start has no literal block (::)')
    commands = []
    for line in block:
        if line.strip() and not line.startswith((' ', '\t')):
            break
        if line.strip():
            commands.append(line.strip())
    if not commands:
        raise QuickStartError('the Quick start block is empty')
    return commands


def main(argv):
    path = argv[1] if len(argv) > 1 else 'README.rst'
    with open(path, encoding='utf-8') as f:
        try:
            commands = quick_start_commands(f.read())
        except QuickStartError as exc:
            print('%s: %s' % (path, exc), file=sys.stderr)
            return 1
    for command in commands:
        print(command)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

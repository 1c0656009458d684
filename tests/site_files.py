"""Hostile site files the unit and the functional tests share.

Plain Python: the functional tests import it under eventlet, where
Hypothesis (and so ``tests/unit/grid/fuzzing.py``) cannot be imported
(its trio plugin fails on eventlet's sockets).
"""


def nested(depth, opening='[', closing=']'):
    """Return a document nested ``depth`` levels deep."""
    return opening * depth + closing * depth


def alias_bomb(levels):
    """A few hundred bytes of YAML merge keys that expand 9**levels-fold.

    PyYAML's safe_load took 28 s for six levels (362 bytes).
    """
    lines = ['m0: &m0 {a: 1, b: 2, c: 3, d: 4}']
    for level in range(1, levels + 1):
        lines.append('m%d: &m%d {<<: [%s]}' % (
            level, level, ','.join(['*m%d' % (level - 1)] * 9)))
    lines.append('hosts: {wn01: batch}')
    return '\n'.join(lines)

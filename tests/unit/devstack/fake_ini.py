"""devstack's ini helpers, kept as JSON.

Usage: ``fake_ini.py VERB FILE SECTION OPTION [VALUE]``.

A file maps sections to options to the list of values devstack would have
written: ``iniset`` replaces the list, ``iniadd`` appends to it, ``iniget``
prints the first value and ``iniget_multiline`` all of them, one a line.
"""

import json
import os
import sys


def main(verb, path, section, option, value=None):
    data = {}
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
    values = data.setdefault(section, {}).setdefault(option, [])
    if verb == 'get':
        print(values[0] if values else '')
        return
    if verb == 'getall':
        print('\n'.join(values))
        return
    if verb == 'set':
        values[:] = [value]
    elif verb == 'add':
        values.append(value)
    else:
        raise SystemExit('unknown verb %s' % verb)
    with open(path, 'w') as f:
        json.dump(data, f)


if __name__ == '__main__':
    main(*sys.argv[1:])

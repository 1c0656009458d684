"""Run the benchmarks: ``python -m tools.bench [PART ...]``.

With no argument every part found in this package runs, one after the
other, so they do not compete for the machine's cores. A part that fails
is reported and the others still run; the exit status says whether all
parts ran.
"""

import argparse
import importlib
import pkgutil
import sys
import time
import traceback

import tools.bench


def available_parts():
    return sorted(info.name for info in
                  pkgutil.iter_modules(tools.bench.__path__)
                  if not info.name.startswith('_'))


def run_part(name):
    print('=== %s' % name, flush=True)
    started = time.monotonic()
    try:
        importlib.import_module('tools.bench.%s' % name).run()
    except Exception:
        traceback.print_exc()
        print('=== %s: FAILED after %.1f s'
              % (name, time.monotonic() - started))
        return False
    print('=== %s: done in %.1f s' % (name, time.monotonic() - started),
          flush=True)
    return True


def main(argv=None):
    parts = available_parts()
    parser = argparse.ArgumentParser(prog='python -m tools.bench',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('parts', nargs='*', metavar='PART',
                        help='parts to run, among: %s' % ', '.join(parts))
    args = parser.parse_args(argv)
    unknown = sorted(set(args.parts) - set(parts))
    if unknown:
        parser.error('unknown part(s) %s; choose among %s'
                     % (', '.join(unknown), ', '.join(parts)))
    results = [run_part(name) for name in (args.parts or parts)]
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())

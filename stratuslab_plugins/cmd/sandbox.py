"""``stratuslab-sandbox``: the whole plugin set working on one machine.

Starts, on embedded defaults, Nova in-process (its real API, conductor and
scheduler, with our filters and weighers) over four fake compute hosts, a
local OCI registry and a real glance-api with the ``appliance`` store, and
the accounting on SQLite; then runs a scenario with progress output: an
appliance created, endorsed and uploaded through Glance, servers for two
VOs placed (and why), some suspended and deleted, usage extracted into
APEL messages, and a usage-by-VO table. It leaves ``WORKDIR/outgoing``
(the dirq queue ``ssmsend`` reads) and ``WORKDIR/report.json``.

Nova, Placement and Glance are test dependencies of the plugins, so the
sandbox runs where the test requirements are installed: ``tox -e sandbox``
does that for you.
"""

import argparse
import importlib.util
import os
import shutil
import signal
import sys
import tempfile

#: System programs the sandbox starts, with the Debian package giving each.
SYSTEM_PROGRAMS = {
    'docker-registry': 'docker-registry',
    'openssl': 'openssl',
}

#: Python modules the sandbox imports, all from test-requirements.txt.
PYTHON_MODULES = ('nova', 'placement', 'glance', 'glance_store',
                  'wsgi_intercept', 'testtools')


class PreflightError(Exception):
    """Something the sandbox needs is missing; the message says the fix."""


def missing_system_packages(which=shutil.which):
    """Return the Debian packages whose programs are not on ``PATH``."""
    return sorted({package for program, package in SYSTEM_PROGRAMS.items()
                   if which(program) is None and
                   not os.path.exists('/usr/bin/%s' % program)})


def missing_python_modules(find_spec=importlib.util.find_spec):
    """Return the test-dependency modules that cannot be imported."""
    return [name for name in PYTHON_MODULES if find_spec(name) is None]


def preflight():
    """Fail at once, naming the command that fixes it, when a need is unmet."""
    packages = missing_system_packages()
    if packages:
        raise PreflightError(
            'missing system packages; install them with:\n'
            '    apt-get install -y %s' % ' '.join(packages))
    modules = missing_python_modules()
    if modules:
        raise PreflightError(
            'missing Python modules (%s); the sandbox needs the test '
            'requirements:\n    tox -e sandbox\nor\n    pip install -c '
            'upper-constraints.txt -r test-requirements.txt'
            % ', '.join(modules))


def stop_child_processes(timeout=10):
    """Terminate every process this one started, then kill the stubborn.

    The registry and glance-api run as child processes; they must not
    outlive the sandbox, whether it ends normally, on an error, on Ctrl-C
    or on SIGTERM (tox sends one when interrupted).
    """
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    gone, alive = psutil.wait_procs(children, timeout=timeout)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt('signal %d' % signum)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='stratuslab-sandbox',
        description='Run the whole stratuslab plugin set on one machine.')
    parser.add_argument(
        '--workdir', metavar='DIR',
        help='where the sandbox writes its services\' data, the outgoing '
             'APEL queue (DIR/outgoing) and DIR/report.json; default: a '
             'new temporary directory')
    parser.add_argument(
        '--keep', action='store_true',
        help='keep the service data (registry storage, Glance database, '
             'ledger) in the work directory after the run; the outgoing '
             'queue and the report are always kept')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        preflight()
    except PreflightError as exc:
        print('stratuslab-sandbox: %s' % exc, file=sys.stderr)
        return 2
    workdir = os.path.abspath(args.workdir or tempfile.mkdtemp(
        prefix='stratuslab-sandbox-'))
    os.makedirs(workdir, exist_ok=True)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    # Nova's harness needs its monkey patching before anything imports
    # the standard library's threading or socket users.
    from nova import monkey_patch
    monkey_patch.patch()
    from stratuslab_plugins.sandbox import runner
    try:
        return runner.run(workdir, keep=args.keep, out=sys.stdout)
    except KeyboardInterrupt:
        print('\nstratuslab-sandbox: interrupted; stopping services',
              file=sys.stderr)
        return 130
    finally:
        stop_child_processes()


if __name__ == '__main__':
    sys.exit(main())

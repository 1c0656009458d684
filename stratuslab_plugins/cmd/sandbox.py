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
import inspect
import os
import shutil
import signal
import sys
import tempfile
import time

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


def _os_sleep():
    """Return a sleep that blocks the OS thread, eventlet or not.

    Under Nova's eventlet monkey patching, ``time.sleep`` switches green
    threads, which a signal handler running in eventlet's hub must not do,
    and ``select.poll`` (which ``psutil.wait_procs`` uses) is gone.
    """
    if 'eventlet' in sys.modules:
        from eventlet import patcher
        return patcher.original('time').sleep
    return time.sleep


def _alive(process):
    import psutil

    try:
        if process.ppid() == os.getpid():
            os.waitpid(process.pid, os.WNOHANG)
        return process.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, ChildProcessError):
        return False


def stop_child_processes(timeout=10):
    """Terminate every process this one started, then kill the stubborn.

    The registry and glance-api run as child processes; they must not
    outlive the sandbox, whether it ends normally, on an error, on Ctrl-C
    or on SIGTERM (tox sends one when interrupted).
    """
    import psutil

    children = psutil.Process().children(recursive=True)
    sleep = _os_sleep()
    for action in ('terminate', 'kill'):
        for child in children:
            try:
                getattr(child, action)()
            except psutil.NoSuchProcess:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            children = [child for child in children if _alive(child)]
            if not children:
                return
            sleep(0.1)


def interrupt_handler(workdir, keep, err=sys.stderr, end=os._exit):
    """Return a signal handler that stops the sandbox within seconds.

    Nova's harness runs on eventlet, where a signal handler runs in
    whichever green thread holds the interpreter. Raising
    ``KeyboardInterrupt`` there (what Python does by default) killed a
    Nova service's green thread instead of the scenario when Ctrl-C came
    while servers were booting, and the scenario waited for them until a
    second Ctrl-C. So the handler does the stopping itself: it ignores
    further SIGINT/SIGTERM (a terminal sends SIGINT to the whole process
    group, and tox sends its own after that), stops every child process,
    removes the services' data unless ``keep``, and exits at once with
    128 + the signal number. The in-process Nova holds nothing that
    outlives the process.
    """
    def handle(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        err.write('\nstratuslab-sandbox: interrupted (%s); stopping '
                  'services\n' % signal.Signals(signum).name)
        err.flush()
        stop_child_processes(timeout=5)
        from stratuslab_plugins.sandbox import workdir as sandbox_dir
        # Ctrl-C may come while the last step writes the report.
        sandbox_dir.remove_partial_report(workdir)
        if not keep:
            sandbox_dir.remove_service_data(workdir)
        if sandbox_dir.report_written(workdir):
            err.write('stratuslab-sandbox: stopped after writing the '
                      'report\n')
        else:
            err.write('stratuslab-sandbox: stopped; the run is incomplete '
                      '(no report was written)\n')
        err.flush()
        end(128 + signum)
    return handle


def quiet_third_party_warnings():
    """Silence start-up notices that are not the sandbox user's to act on.

    Nova logs that its eventlet mode is deprecated (and importing eventlet
    warns the same, see :mod:`stratuslab_plugins.cmd`): both are about
    Nova's harness, which the sandbox uses as it is, and nothing a site
    admin can change.
    """
    import logging

    logging.getLogger('nova.monkey_patch').setLevel(logging.ERROR)


class _DocFirstParser(argparse.ArgumentParser):
    """``--help`` says what the sandbox does before its usage line."""

    def format_help(self):
        return (inspect.cleandoc(__doc__) + '\n\nIt reads no configuration '
                'file: every setting is embedded.\n\n'
                + super().format_help())


def parse_args(argv):
    parser = _DocFirstParser(prog='stratuslab-sandbox')
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
    handler = interrupt_handler(workdir, args.keep)
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    quiet_third_party_warnings()
    # Nova's harness needs its monkey patching before anything imports
    # the standard library's threading or socket users (oslo.context
    # among them: nothing above imports it).
    from nova import monkey_patch
    monkey_patch.patch()
    from stratuslab_plugins.sandbox import runner
    try:
        return runner.run(workdir, keep=args.keep, out=sys.stdout)
    finally:
        stop_child_processes()


if __name__ == '__main__':
    sys.exit(main())

"""Ctrl-C stops the sandbox at every step, and the next run starts clean.

Runs ``stratuslab-sandbox`` as a real process in its own process group
(its real services: Debian's docker-registry, a glance-api process, Nova
in-process) and, as soon as it announces step N, sends SIGINT to the
whole group, as a terminal does on Ctrl-C. The sandbox must be gone
within 10 seconds with its own exit status (130), with every process of
the group gone and no report written. A run in the same work directory
after an interrupted one must then finish.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import fixtures
import psutil
import testtools

from stratuslab_plugins.sandbox import scenario

STEPS = len(scenario.Scenario(None, None, None).steps())
#: How long the sandbox may take to stop once interrupted.
STOP_WITHIN = 10
#: How long a step may take to start (Nova's harness on a busy machine).
STEP_WITHIN = 240


def start_sandbox(workdir, *args):
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    return subprocess.Popen(
        [sys.executable, '-m', 'stratuslab_plugins.cmd.sandbox',
         '--workdir', workdir] + list(args),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
        start_new_session=True, text=True)


def group_members(pgid):
    members = []
    for process in psutil.process_iter(['pid']):
        try:
            if os.getpgid(process.pid) == pgid:
                members.append(process)
        except (ProcessLookupError, psutil.Error):
            pass
    return members


class InterruptTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.workdir = self.useFixture(fixtures.TempDir()).path

    def run_until_step(self, step, *args):
        """Start the sandbox; return it once it announces ``step``."""
        process = start_sandbox(self.workdir, *args)
        self.addCleanup(self._kill_group, process.pid)
        output = []
        self.addDetail('sandbox-output', testtools.content.Content(
            testtools.content_type.UTF8_TEXT,
            lambda: [''.join(output).encode()]))
        deadline = time.monotonic() + STEP_WITHIN
        marker = re.compile(r'^\[%d/%d\] ' % (step, STEPS))
        for line in process.stdout:
            output.append(line)
            if marker.match(line):
                return process, output
            if time.monotonic() > deadline:
                break
        self.fail('the sandbox did not reach step %d' % step)

    @staticmethod
    def _kill_group(pgid):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def interrupt(self, process, output):
        """Ctrl-C the process group; return the exit status."""
        pgid = process.pid
        os.killpg(pgid, signal.SIGINT)
        started = time.monotonic()
        try:
            process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            self.fail('the sandbox was still running %ds after Ctrl-C'
                      % STOP_WITHIN)
        # Its children may need the rest of the allowance to go.
        while group_members(pgid) and \
                time.monotonic() - started < STOP_WITHIN:
            time.sleep(0.2)
        self.assertEqual([], [p.pid for p in group_members(pgid)],
                         'processes left after Ctrl-C')
        # Read through the same buffered stream the steps were read from
        # (communicate() would skip what it had buffered).
        output.append(process.stdout.read())
        return process.returncode

    def check_interrupted_at(self, step):
        process, output = self.run_until_step(step)
        self.assertEqual(128 + signal.SIGINT, self.interrupt(process, output))
        self.assertIn('interrupted', ''.join(output))
        # No half-written report: none at all, or a whole one (the last
        # steps take milliseconds: on a busy machine the run may have
        # written its report before the signal arrives).
        report = os.path.join(self.workdir, 'report.json')
        self.assertFalse(os.path.exists(report + '.tmp'))
        if step <= STEPS - 3:
            self.assertFalse(os.path.exists(report))
        elif os.path.exists(report):
            with open(report) as f:
                self.assertIn('records', json.load(f))

    for _step in range(1, STEPS + 1):
        locals()['test_ctrl_c_at_step_%d' % _step] = (
            lambda self, step=_step: self.check_interrupted_at(step))
    del _step

    def test_a_run_after_an_interrupted_one_starts_clean(self):
        # --keep leaves the registry holding the appliance, as an
        # interrupted run of the old sandbox did.
        process, output = self.run_until_step(3, '--keep')
        self.interrupt(process, output)
        self.assertTrue(os.path.isdir(os.path.join(self.workdir,
                                                   'registry')))

        process = start_sandbox(self.workdir)
        self.addCleanup(self._kill_group, process.pid)
        out, _ = process.communicate(timeout=600)
        self.assertEqual(0, process.returncode, out)
        self.assertIn('Starting clean', out)
        self.assertTrue(os.path.exists(
            os.path.join(self.workdir, 'report.json')))

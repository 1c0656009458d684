"""Quiet green runs: every test's output and logs kept, shown on failure.

A passing ``tox`` should print test results, not logs. Many of our tests
run code that logs (oslo.log's setup in a console script's ``main()``,
glance_store at DEBUG, tests that provoke errors on purpose) or prints
(Django's live server, a command's output), and most of them derive from
plain ``testtools.TestCase``, which captures nothing. Rather than ask
every test class to remember a base class, the test packages'
``load_tests`` hands each test to :func:`capture_suite`, which puts
:class:`CaptureOutput` around it: Python logging at DEBUG, ``sys.stdout``
and ``sys.stderr`` are collected per test and attached as details, which
stestr shows only for a test that fails or errors.

``testtools`` tests get the fixture through ``useFixture`` (so the
details travel with the test's own); ``unittest`` tests (Horizon's and
Django's) get a ``run`` that writes what it collected to the real stderr
only when the test did not pass (:func:`_captured_run`).

Output written by child processes (glance-api, the registry) goes to the
files their fixtures give them, not through here.
"""

import contextlib
import logging
import sys
import unittest

import fixtures
import testtools

#: The format of captured log lines: enough to find the source.
LOG_FORMAT = '%(asctime)s %(levelname)s [%(name)s] %(message)s'


class CaptureOutput(fixtures.Fixture):
    """Collect logging, stdout and stderr for the length of one test.

    The root logger's handlers are replaced by one collecting handler at
    DEBUG, and handlers added during the test (oslo.log's setup) are
    removed again at cleanup, so nothing a test sets up writes on into
    later tests.
    """

    def _setUp(self):
        self.logger = self.useFixture(fixtures.FakeLogger(
            level=logging.DEBUG, format=LOG_FORMAT))
        # Not "stdout"/"stderr": stestr prints details of those names for
        # passing tests too.
        self.stdout = self.useFixture(fixtures.StringStream('test-stdout'))
        self.stderr = self.useFixture(fixtures.StringStream('test-stderr'))
        self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                             self.stdout.stream))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr',
                                             self.stderr.stream))
        root = logging.getLogger()
        before = list(root.handlers)
        self.addCleanup(self._remove_added_handlers, root, before)

    @staticmethod
    def _remove_added_handlers(root, before):
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)

    def written(self, name='stdout'):
        """What the test wrote to ``sys.stdout`` (or ``stderr``) so far."""
        stream = getattr(self, name)
        stream.stream.flush()
        return stream.getDetails()['test-' + name].as_text()

    def text(self):
        """Everything collected, for a test that shows it itself."""
        parts = []
        for name, detail in sorted(self.getDetails().items()):
            body = detail.as_text()
            if body:
                parts.append('%s:\n%s' % (name, body))
        return '\n'.join(parts)


@contextlib.contextmanager
def captured(what):
    """Collect the output of a block run outside any test; show it on error.

    For class fixtures (``setUpClass``), which run before and outside
    each test's capture: what they log or print is kept, and written to
    the real stderr, named by ``what``, only when the block raises.
    """
    capture = CaptureOutput()
    capture.setUp()
    try:
        yield capture
    except BaseException:
        collected = capture.text()
        capture.cleanUp()
        sys.stderr.write('\n--- output of %s ---\n%s\n' % (what, collected))
        raise
    capture.cleanUp()


def _capturing_setup(test, original_setup):
    def setUp():
        test.useFixture(CaptureOutput())
        original_setup()
    return setUp


def _captured_run(test, original_run):
    """Return a ``run`` for a plain ``unittest`` test that collects output.

    Set on the test instance rather than wrapping the test in another
    object, so that ``unittest`` still sees the test's own class and runs
    its class fixtures (``setUpClass``: Django's live server, for one);
    the output goes to the real stderr only when the test did not pass.
    """
    def run(result=None):
        capture = CaptureOutput()
        outcome = _OutcomeWatch(result)
        capture.setUp()
        try:
            original_run(outcome)
            collected = capture.text() if outcome.failed else ''
        finally:
            capture.cleanUp()
        if collected:
            sys.stderr.write('\n--- output of %s ---\n%s\n'
                             % (test.id(), collected))
        return result
    return run


class _OutcomeWatch(testtools.ExtendedToOriginalDecorator):
    """Pass results on, noting whether the test failed or erred."""

    failed = False

    def addError(self, test, err=None, details=None):
        self.failed = True
        return super().addError(test, err, details=details)

    def addFailure(self, test, err=None, details=None):
        self.failed = True
        return super().addFailure(test, err, details=details)


def capture_suite(suite):
    """Return ``suite`` with every test's output collected."""
    captured = unittest.TestSuite()
    for test in testtools.iterate_tests(suite):
        if isinstance(test, testtools.TestCase):
            test.setUp = _capturing_setup(test, test.setUp)
            captured.addTest(test)
        elif isinstance(test, unittest.TestCase) and \
                not isinstance(test, unittest.case._SubTest):
            # Django's __call__ sets up its client and database, then
            # calls this run.
            test.run = _captured_run(test, test.run)
            captured.addTest(test)
        else:
            captured.addTest(test)
    return captured


def load_package_tests(loader, standard_tests, pattern, start_dir):
    """What a test package's ``load_tests`` returns: its tests, captured.

    :param start_dir: the package's directory, discovered from there.
    """
    standard_tests.addTests(loader.discover(start_dir=start_dir,
                                            pattern=pattern or 'test*.py'))
    return capture_suite(standard_tests)

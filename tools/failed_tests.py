"""Print each failed test of subunit streams: its id and traceback tail.

``.ci/run`` calls it after the counts: a CI record keeps only the end of
a run's output, where tox's last environments (release notes) print, so
without it a red run says how many tests failed but not which, nor why.
Reads the streams with python-subunit, as ``subunit-stats`` does::

    python tools/failed_tests.py .tox/py3.subunit .tox/functional.subunit
"""
import sys

import subunit
import testtools

#: Lines of a failed test's traceback printed, its last ones.
TAIL = 12


class Failures(testtools.StreamResult):
    """Collect the failed tests of a stream and their tracebacks."""

    def __init__(self):
        super().__init__()
        self.tracebacks = {}
        self.failed = []

    def status(self, test_id=None, test_status=None, file_name=None,
               file_bytes=None, **kwargs):
        if test_id is None:
            return
        if file_name == 'traceback' and file_bytes:
            self.tracebacks[test_id] = (self.tracebacks.get(test_id, b'')
                                        + file_bytes)
        if test_status in ('fail', 'uxsuccess'):
            self.failed.append(test_id)


def main(paths):
    """Print the failed tests of each subunit file in ``paths``."""
    for path in paths:
        result = Failures()
        with open(path, 'rb') as stream:
            subunit.ByteStreamToStreamResult(
                stream, non_subunit_name=None).run(result)
        for test_id in result.failed:
            print('FAILED %s' % test_id)
            lines = result.tracebacks.get(test_id, b'').decode(
                'utf-8', 'replace').rstrip().splitlines()
            for line in lines[-TAIL:]:
                print('    %s' % line)


if __name__ == '__main__':
    main(sys.argv[1:])

"""What the throw-away database servers share: a directory, a process, a log.

:mod:`.postgres` and :mod:`.mariadb` each start one server of their kind
in a fresh temporary directory (``/dev/shm`` when it exists, so that a
benchmark measures the database rather than the disk), wait until it
answers, and remove everything on ``stop``. This base holds that life
cycle; a subclass says how to create, start and reach its server.
"""

import os
import shutil
import signal
import subprocess
import time


class DatabaseServer(object):
    """One server process with its own directory.

    :param base_dir: where its directory is created; ``/dev/shm`` when it
        exists, else the system's temporary directory.
    """

    #: The server's log file, in its directory.
    log_name = 'server.log'
    #: The signal that stops the server cleanly and quickly.
    stop_signal = signal.SIGTERM
    #: Seconds :meth:`wait_ready` waits for the first connection.
    start_timeout = 90
    #: The error :meth:`start` raises (a subclass's own).
    error = RuntimeError

    def __init__(self, base_dir=None):
        if base_dir is None and os.path.isdir('/dev/shm'):
            base_dir = '/dev/shm'
        self.base_dir = base_dir
        self.directory = None
        self.process = None

    @property
    def log_path(self):
        return os.path.join(self.directory, self.log_name)

    def log_text(self):
        try:
            with open(self.log_path, errors='replace') as log:
                return log.read()
        except (OSError, TypeError):
            return ''

    def wait_ready(self, connect, refused):
        """Return once ``connect()`` succeeds; raise if the server died.

        :param connect: opens (and closes) one connection.
        :param refused: the driver's exception for "not yet".
        """
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.process.poll() is not None:
                raise self.error(
                    '%s exited with status %d; its log ends with:\n%s'
                    % (os.path.basename(self.process.args[0]),
                       self.process.returncode, self.log_text()[-2000:]))
            try:
                connect()
                return
            except refused:
                if time.monotonic() > deadline:
                    self.stop()
                    raise self.error(
                        '%s did not accept connections within %d s'
                        % (type(self).__name__, self.start_timeout)
                    ) from None
                time.sleep(0.1)

    def stop(self, timeout=60):
        """Stop the server (:attr:`stop_signal`); remove its directory."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(self.stop_signal)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

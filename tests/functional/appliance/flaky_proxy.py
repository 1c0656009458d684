"""A TCP proxy that breaks connections on purpose, in front of a registry.

A real registry does not drop a download halfway, answer 503 or vanish
in the middle of an upload when a test asks it to; this proxy does, at
the TCP level, so the client under test meets the failure on a real
socket. Faults (each fires once unless said otherwise):

* ``cut_response_after``: close the connection after this many bytes of
  responses (counted over all connections): a broken download.
* ``cut_request_after``: close after this many bytes of requests: a
  broken upload chunk.
* ``down_after_request_bytes``: after this many request bytes, close
  everything and refuse new connections until :meth:`heal`: the registry
  disappears.
* ``answer_503``: answer this many new connections with ``503`` and close.
"""

import socket
import threading

import fixtures

POLL = 0.2
_503 = (b'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n'
        b'Connection: close\r\n\r\n')


class FlakyProxy(fixtures.Fixture):

    def __init__(self, upstream_port):
        super().__init__()
        self.upstream_port = upstream_port
        self.cut_response_after = None
        self.cut_request_after = None
        self.down_after_request_bytes = None
        self.answer_503 = 0
        self.down = False
        self.request_bytes = 0
        self.response_bytes = 0
        self.faults = []
        self._lock = threading.Lock()
        self._connections = []

    def _setUp(self):
        self.listener = socket.socket()
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(16)
        # Every socket polls with a timeout, so that each thread notices
        # the end of its connection or of the proxy and exits; blocked
        # readers left behind would collide, under eventlet (the
        # functional tests' mode), with the next test's descriptors.
        self.listener.settimeout(POLL)
        self.port = self.listener.getsockname()[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        self._stopped = False
        self._threads = []
        self._start(self._accept)
        self.addCleanup(self._stop)

    def _start(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _stop(self):
        self._stopped = True
        for thread in self._threads:
            thread.join()
        self.listener.close()

    def _close_all(self):
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.set()

    def heal(self):
        self.down = False

    def _accept(self):
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            if self.down:
                client.close()
                continue
            if self.answer_503 > 0:
                self.answer_503 -= 1
                self.faults.append('503')
                client.settimeout(5)
                client.recv(65536)
                client.sendall(_503)
                client.close()
                continue
            upstream = socket.create_connection(('127.0.0.1',
                                                 self.upstream_port))
            closed = threading.Event()
            with self._lock:
                self._connections.append(closed)
            for sock in (client, upstream):
                sock.settimeout(POLL)
            self._start(self._pump, client, upstream, True, closed)
            self._start(self._pump, upstream, client, False, closed)

    def _fault(self, up, total):
        if up:
            if (self.cut_request_after is not None
                    and total >= self.cut_request_after):
                self.cut_request_after = None
                return 'cut request'
            if (self.down_after_request_bytes is not None
                    and total >= self.down_after_request_bytes):
                self.down_after_request_bytes = None
                self.down = True
                return 'down'
        elif (self.cut_response_after is not None
              and total >= self.cut_response_after):
            self.cut_response_after = None
            return 'cut response'
        return None

    def _pump(self, source, sink, up, closed):
        try:
            while not (closed.is_set() or self._stopped):
                try:
                    data = source.recv(262144)
                except socket.timeout:
                    continue
                if not data:
                    break
                with self._lock:
                    if up:
                        self.request_bytes += len(data)
                        total = self.request_bytes
                    else:
                        self.response_bytes += len(data)
                        total = self.response_bytes
                    fault = self._fault(up, total)
                if fault:
                    self.faults.append(fault)
                    if fault == 'down':
                        self._close_all()
                    break
                sink.settimeout(None)
                sink.sendall(data)
                sink.settimeout(POLL)
        except (OSError, EOFError):
            pass
        closed.set()
        # The first pump to end closes the connection both ways; each
        # closes the socket it reads once the other cannot use it.
        try:
            sink.shutdown(socket.SHUT_RDWR)
        except (OSError, EOFError):
            pass
        source.close()

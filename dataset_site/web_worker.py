"""gunicorn's threaded worker, changed so that slow or silent clients cannot hold its threads.

Stock gthread hands every new connection to a thread that waits up to 5 s for
a first byte, and a thread that has started reading headers waits for the
rest for ever: a few hundred half-open connections (slowloris) starve it.
Here the main loop collects each request's header bytes itself, without
blocking, and hands the connection to a thread only once its headers are
complete; a connection whose headers are not complete HEADER_SECONDS after it
opened (or after its previous response) is closed.  Once a request is under
way, a client silent for IDLE_SECONDS (mid-upload or mid-download) is dropped.
"""
from __future__ import annotations

import errno
import selectors
import socket
import time
from functools import partial

from gunicorn.workers.gthread import TConn, ThreadWorker

HEADER_SECONDS = 10.0
IDLE_SECONDS = 60.0
HEADER_END = b"\r\n\r\n"
MAX_HEADER_BYTES = 64 * 1024  # beyond this the parser answers "request header too large"


class BufferedConn(TConn):
    """A connection with the bytes the main loop read for it before a thread took it over."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.early = bytearray()

    def init(self) -> None:
        fresh = not self.initialized
        super().init()
        if fresh:
            self.hand_over_early_bytes()

    def hand_over_early_bytes(self) -> None:
        if self.early and self.parser is not None:
            buffer = self.parser.unreader.buf
            buffer.seek(0, 2)
            buffer.write(bytes(self.early))
            self.early.clear()


class GuardedThreadWorker(ThreadWorker):
    def accept(self, listener) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self.collect_headers(BufferedConn(self.cfg, client_sock, client_addr, listener.getsockname()))

    def collect_headers(self, conn: BufferedConn) -> None:
        """Wait in the poller, not in a thread, until the connection has sent a whole request head."""
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + HEADER_SECONDS
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))

    def on_client_socket_readable(self, conn: BufferedConn, client) -> None:
        """A kept-alive connection starts its next request: collect its headers the same way."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self.collect_headers(conn)
        self.on_pending_socket_readable(conn, client)

    def on_pending_socket_readable(self, conn: BufferedConn, client) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self.drop_pending(conn)
            return
        conn.early += data
        if HEADER_END not in conn.early and len(conn.early) < MAX_HEADER_BYTES:
            return  # keep waiting, in the poller
        self.poller.unregister(client)
        self.pending_conns.remove(conn)
        conn.data_ready = True
        if conn.initialized:
            conn.hand_over_early_bytes()  # a kept-alive connection already has its parser
        self.enqueue_req(conn)

    def drop_pending(self, conn: BufferedConn) -> None:
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):
            pass
        self.pending_conns.remove(conn)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Close connections past their header deadline (the deque is not in deadline order after a keep-alive)."""
        now = time.monotonic()
        for conn in [c for c in self.pending_conns if c.timeout <= now]:
            self.drop_pending(conn)

    def handle_request(self, req, conn: BufferedConn):
        conn.sock.settimeout(IDLE_SECONDS)  # the thread's blocking reads and writes give up on a silent client
        return super().handle_request(req, conn)

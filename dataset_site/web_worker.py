"""gunicorn's threaded worker, changed so that slow or silent clients cannot hold its threads.

Stock gthread hands every new connection to a thread that waits up to 5 s for
a first byte, and a thread that has started reading headers waits for the
rest for ever: a few hundred half-open connections (slowloris) starve it.
Here the main loop collects each request's header bytes itself, without
blocking, and hands the connection to a thread only once its headers are
complete; a connection whose headers are not complete HEADER_SECONDS after it
opened (or after its previous response) is closed.  Once a request is under
way, a client silent for IDLE_SECONDS (mid-upload or mid-download) is dropped.

Request bodies are slow-loris material too (complete headers, then a byte of
the body every few seconds: the CSRF check reads the body, so each such
request held a thread; 16 of them took the site down).  So a small body (up to
POLLER_BODY_BYTES, while the process buffers at most POLLER_BUDGET_BYTES) is
gathered in the poller as well, within BODY_SECONDS plus the time its size
takes at MIN_BODY_RATE; of a larger one (a tus chunk) the poller gathers the
first LARGE_PREFIX_BYTES the same way, then a thread reads the rest from a
socket that allows BODY_GRACE_SECONDS plus the time each byte received buys
at MIN_BODY_RATE, so a client that trickles is cut off (and a tus upload
resumes from what arrived).
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
POLLER_BODY_BYTES = 1024 * 1024  # every form of the dashboard fits; tus chunks (8 MiB) go to a thread
LARGE_PREFIX_BYTES = 256 * 1024  # of a larger body, gathered before a thread reads the rest
POLLER_BUDGET_BYTES = 64 * 1024 * 1024  # what one process may hold in bodies being gathered
BODY_SECONDS = 30.0
BODY_GRACE_SECONDS = 2.0
MIN_BODY_RATE = 16 * 1024  # bytes per second: 128 kbit/s


class PacedSocket(socket.socket):
    """A client socket whose reads, while ``pace()`` is on, must keep up MIN_BODY_RATE on average."""

    deadline: float | None = None

    def pace(self) -> None:
        self.deadline = time.monotonic() + BODY_GRACE_SECONDS

    def _before(self) -> None:
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("the client sends its request body too slowly")
            self.settimeout(min(IDLE_SECONDS, remaining))

    def _after(self, received: int) -> None:
        if self.deadline is not None:
            self.deadline += received / MIN_BODY_RATE

    def recv(self, bufsize: int, *args) -> bytes:
        self._before()
        data = super().recv(bufsize, *args)
        self._after(len(data))
        return data

    def recv_into(self, buffer, nbytes: int = 0, *args) -> int:
        self._before()
        count = super().recv_into(buffer, nbytes, *args)
        self._after(count)
        return count


CHUNKED = -1
CHUNKED_END = b"0\r\n\r\n"


def body_length(head: bytes) -> int | None:
    """Content-Length of a request head; CHUNKED for a chunked body; None when the length is unreadable
    (the parser then refuses the request)."""
    lines = head.split(b"\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            return CHUNKED
        if name == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return None
    return length


class BufferedConn(TConn):
    """A connection with the bytes the main loop read for it before a thread took it over."""

    def __init__(self, cfg, sock, client, server) -> None:
        paced = PacedSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
        super().__init__(cfg, paced, client, server)
        self.early = bytearray()
        self.body_wait = 0  # body bytes this connection still has to send while the poller gathers them
        self.held = 0  # body bytes the poller holds for it (counted in the worker's budget)
        self.chunked = False  # its body is chunked: gathered until the last chunk or LARGE_PREFIX_BYTES

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

    buffered = 0  # bytes of bodies held by the poller in this process

    def collect_headers(self, conn: BufferedConn) -> None:
        """Wait in the poller, not in a thread, until the connection has sent a whole request head."""
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + HEADER_SECONDS
        conn.body_wait = 0
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
        if conn.body_wait:
            conn.body_wait -= len(data)
            if conn.body_wait > 0 and not (conn.chunked and conn.early.endswith(CHUNKED_END)):
                return  # the rest of a small body: keep gathering, in the poller
        elif HEADER_END not in conn.early and len(conn.early) < MAX_HEADER_BYTES:
            return  # keep waiting, in the poller
        elif HEADER_END in conn.early and self.gather_body(conn):
            return
        self.release_body(conn)
        self.poller.unregister(client)
        self.pending_conns.remove(conn)
        conn.data_ready = True
        if conn.initialized:
            conn.hand_over_early_bytes()  # a kept-alive connection already has its parser
        self.enqueue_req(conn)

    def gather_body(self, conn: BufferedConn) -> bool:
        """True when the poller waits for more of this request's body first (see the module doc): all of a
        small body, the first LARGE_PREFIX_BYTES of a large one, so a thread is given only to a client that
        is really sending."""
        head, _, arrived = bytes(conn.early).partition(HEADER_END)
        length = body_length(head)
        if length is None:
            return False
        conn.chunked = length == CHUNKED  # unknown length: like a large body, or until its last chunk
        if conn.chunked and arrived.endswith(CHUNKED_END):
            return False
        wanted = length if 0 <= length <= POLLER_BODY_BYTES else LARGE_PREFIX_BYTES
        missing = wanted - len(arrived)
        if missing <= 0 or self.buffered + wanted > POLLER_BUDGET_BYTES:
            return False  # all there already; or over budget: the thread reads it, paced
        conn.body_wait, conn.held = missing, wanted
        self.buffered += wanted
        conn.timeout = time.monotonic() + BODY_SECONDS + wanted / MIN_BODY_RATE
        return True

    def release_body(self, conn: BufferedConn) -> None:
        """The body bytes the poller held for ``conn`` are the parser's now (or dropped)."""
        self.buffered -= conn.held
        conn.held = conn.body_wait = 0

    def drop_pending(self, conn: BufferedConn) -> None:
        self.release_body(conn)
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
        conn.sock.pace()  # and its body reads must keep up MIN_BODY_RATE (until the next request re-paces)
        return super().handle_request(req, conn)

"""Benchmark the production server (gunicorn, as scripts/run starts it) at 100,000 clips.

    .venv/bin/python bench/serving_bench.py [--clips 100000] [--readers 20] [--half-open 800]

Prints the clip table's p50/p95 alone and while `--readers` other logged-in
clients read catalog pages as fast as they can; then opens `--half-open`
connections that never finish a request (half of them stop mid-headers) and
prints the server's memory and thread count before and while they are held,
with the p95 of normal requests meanwhile.
"""
from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.catalog_bench import Session, seeded_session, timed  # noqa: E402
from bench.web_harness import rss_mib, thread_count  # noqa: E402


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def measure_while(session: Session, paths: list[str], seconds: float) -> list[float]:
    times, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        for path in paths:
            t = time.perf_counter()
            session.get(path)
            times.append((time.perf_counter() - t) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=100_000)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--half-open", type=int, default=800)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with seeded_session("bench-serving-", args.clips) as (session, dataset, server_pid, work):
        base = session.base
        paths = [f"/datasets/{dataset}/", f"/datasets/{dataset}/?score_min=60&sort=-score",
                 f"/datasets/{dataset}/?tag=noisy&sort=video&page=20"]
        alone = [timed(session, path, 30) for path in paths]
        print(f"alone: clip table p50 {max(a[0] for a in alone):.1f} ms, p95 {max(a[1] for a in alone):.1f} ms "
              "(worst of 3 views)")

        readers = [Session(base) for _ in range(args.readers)]
        for reader in readers:
            reader.login("bench", "bench-password-123")
        results: list[list[float]] = [[] for _ in readers]
        errors: list[str] = []

        def read(index: int) -> None:
            try:
                results[index] = measure_while(readers[index], paths, args.seconds)
            except Exception as exc:  # noqa: BLE001 - counted and printed
                errors.append(repr(exc))

        threads = [threading.Thread(target=read, args=(i,)) for i in range(args.readers)]
        for thread in threads:
            thread.start()
        mine = measure_while(session, paths, args.seconds)
        for thread in threads:
            thread.join()
        everyone = [t for r in results for t in r] + mine
        p50, p95 = percentiles(everyone)
        print(f"{args.readers} concurrent readers + 1: {len(everyone)} requests in {args.seconds:.0f} s "
              f"({len(everyone) / args.seconds:.1f}/s), p50 {p50:.1f} ms, p95 {p95:.1f} ms, errors {len(errors)}")

        rss0, threads0 = rss_mib(server_pid), thread_count(server_pid)
        port = int(base.rsplit(":", 1)[1])
        idle = []
        for index in range(args.half_open):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            if index % 2:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")  # never finished
            idle.append(sock)
        held = measure_while(session, paths[:1], 8.0)
        rss1, threads1 = rss_mib(server_pid), thread_count(server_pid)
        closed = 0
        time.sleep(4)
        for sock in idle:
            try:
                sock.setblocking(False)
                closed += sock.recv(1) == b""
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
            sock.close()
        p50, p95 = percentiles(held)
        print(f"{args.half_open} half-open connections: server RSS {rss0:.0f} -> {rss1:.0f} MiB, threads {threads0} -> "
              f"{threads1}; normal requests meanwhile p50 {p50:.1f} ms, p95 {p95:.1f} ms ({len(held)} answered); "
              f"{closed} of them closed by the server after its 10 s header deadline")


if __name__ == "__main__":
    main()

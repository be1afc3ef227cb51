"""Make pool processes exit when the process that started them dies.

A ProcessPoolExecutor's workers wait on a queue whose pipe they themselves
keep open, so when their parent is killed (kill -9, out-of-memory) they never
see the end of it and live on, each holding a MediaPipe model (about 300 MB).
A daemon thread in each worker checks once a second that its parent is still
the one that started it, and ends the worker when it is not.
"""
from __future__ import annotations

import os
import threading
import time

CHECK_EVERY_S = 1.0


def exit_with_parent(parent_pid: int) -> None:
    """Pool initializer: pass os.getpid() of the process that creates the pool."""

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)  # no clean-up to run: the parent that wanted our results is gone
            time.sleep(CHECK_EVERY_S)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()

"""One worker thread that runs calls in the order they were handed to it: the training loop hands
it a run's writes (snapshot, metrics, weights) so that serialising and writing files never holds
up the next step. The queue is bounded, so a slow disk slows training instead of filling memory;
an error in the thread is raised again in the caller at its next `submit` or at `close`."""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable


class Background:
    """`submit(fn, *args)` runs `fn(*args)` on the worker thread; `close()` waits for all of them."""

    def __init__(self, name: str = "reglab-writer", depth: int = 4):
        self._calls: queue.Queue = queue.Queue(maxsize=depth)  # at most `depth` calls waiting
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, daemon=True, name=name)
        self._thread.start()

    def _work(self) -> None:
        while (call := self._calls.get()) is not None:
            fn, args = call
            if self._error is None:  # after a failure the later writes are dropped, not half-done
                try:
                    fn(*args)
                except BaseException as e:  # re-raised in the caller, never lost in the thread
                    self._error = e

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue `fn(*args)` (blocks while `depth` calls wait); raises a previous call's error."""
        self._raise()
        self._calls.put((fn, args))

    def close(self) -> None:
        """Run everything queued, stop the thread, and raise the first error of any call."""
        if self._thread.is_alive():
            self._calls.put(None)
            self._thread.join()
        self._raise()

"""A least-recently-used map bounded by the bytes of its values, shared by threads (the app's
snapshot cache: bounded by count, 256 CIFAR-10 CNN snapshots of about 50 MB each made 12 GB)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

V = TypeVar("V")


class BytesLRU(Generic[V]):
    """`get(key, load)`: the cached value, else `load()` kept while the total `size(value)` stays
    within `budget` bytes (the least recently used go first; a value larger than the budget is
    returned, not kept). Values are shared: treat them as read-only."""

    def __init__(self, budget: int, size: Callable[[V], int]):
        self.budget, self._size = budget, size
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        value = load()  # outside the lock: other keys are served meanwhile
        n = self._size(value)
        with self._lock:
            if n <= self.budget and key not in self._items:
                self._items[key] = (value, n)
                self.bytes += n
                while self.bytes > self.budget:
                    self.bytes -= self._items.popitem(last=False)[1][1]
        return value

    def __len__(self) -> int:
        return len(self._items)

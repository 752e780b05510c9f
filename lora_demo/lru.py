"""A bounded memory: values by key, the least recently used dropped first, within a byte budget and a count.

What a worker's two memories (jobs.recent.Recent, bases.Bases) share; each says what it keeps and how big
that is. Imports nothing.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Hashable


class LRU:
    def __init__(self, max_bytes: int, max_items: int):
        self.max_bytes, self.max_items = max_bytes, max_items
        self._kept: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self.bytes = 0   # the sizes of the values kept, as their keepers gave them
        self.hits = 0

    def get(self, key: Hashable):
        """The value kept under key (now the most recently used), or None."""
        kept = self._kept.get(key)
        if kept is None:
            return None
        self._kept.move_to_end(key)
        self.hits += 1
        return kept[0]

    def put(self, key: Hashable, value, size: int) -> None:
        """Keep value (about size bytes), dropping the least recently used until within both bounds. A value
        larger than the whole budget, or a key already kept, changes nothing."""
        if size > self.max_bytes or key in self._kept:
            return
        self._kept[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes or len(self._kept) > self.max_items:
            _, (_, dropped) = self._kept.popitem(last=False)
            self.bytes -= dropped

    def values(self) -> list:
        return [value for value, _ in self._kept.values()]

    def __len__(self) -> int:
        return len(self._kept)

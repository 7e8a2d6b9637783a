"""A session cache of range results, so zooming back out (or in, within raw data) does not refetch.

Entries are keyed by ``(asset, aspect, source, interval)`` and hold a frame with the range it covers
and the variables it has. A lookup is answered by any entry of the same key whose range contains the
asked range and whose variables include the asked ones; the answer is the slice of that frame (a view,
no copy). So a 24 h raw read also answers every raw zoom inside those 24 h.

Bounded in memory: at most ``max_bytes`` of frames (numpy sizes plus an estimate for text values) and
``max_entries`` entries, least recently used evicted first. Data near "now" may still grow (late or
buffered records), so an entry whose range ends less than ``recent_s`` before it was fetched is trusted
for ``recent_ttl_s`` only. ``invalidate(asset, aspect)`` drops an aspect's entries (after ``ts put``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tui.api.ts.frame import AggregateFrame, RawFrame

Frame = RawFrame | AggregateFrame
CacheKey = tuple[str, str, str, str]  # asset, aspect, source, interval spec ("" for raw)

DEFAULT_MAX_BYTES = 256 * 2**20
DEFAULT_MAX_ENTRIES = 64
RECENT_S = 600.0
RECENT_TTL_S = 60.0


@dataclass
class _Entry:
    key: CacheKey
    start_ms: int
    end_ms: int
    variables: frozenset[str]
    frame: Frame
    stored_at: float
    nbytes: int


class RangeCache:
    """LRU cache of frames by key and covered range (see the module doc). Not thread-safe (one loop)."""

    def __init__(
        self,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        *,
        recent_s: float = RECENT_S,
        recent_ttl_s: float = RECENT_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.recent_s = recent_s
        self.recent_ttl_s = recent_ttl_s
        self._clock = clock
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._next_id = 0
        self.nbytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _fresh(self, entry: _Entry, now: float) -> bool:
        if entry.end_ms < (entry.stored_at - self.recent_s) * 1000:
            return True
        return now - entry.stored_at <= self.recent_ttl_s

    def get(self, key: CacheKey, start_ms: int, end_ms: int, variables: Iterable[str]) -> Frame | None:
        """The cached data of ``(start_ms, end_ms]`` for ``variables`` (empty: all), or None."""
        wanted = frozenset(variables)
        now = self._clock()
        best: _Entry | None = None
        for ident, entry in list(self._entries.items()):
            if entry.key != key:
                continue
            if not self._fresh(entry, now):
                self._drop(ident)
                continue
            if entry.start_ms <= start_ms and end_ms <= entry.end_ms and _has(entry, wanted):
                if best is None or entry.end_ms - entry.start_ms < best.end_ms - best.start_ms:
                    best = entry
                    best_id = ident
        if best is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(best_id)
        frame = best.frame.slice_ms(start_ms, end_ms)
        if wanted and wanted != set(best.frame.variables):
            frame = frame.project([name for name in best.frame.variables if name in wanted])
        return frame

    def put(self, key: CacheKey, start_ms: int, end_ms: int, variables: Iterable[str], frame: Frame) -> None:
        """Store ``frame`` covering ``(start_ms, end_ms]``; entries it makes redundant are dropped."""
        size = frame.nbytes + 512
        if size > self.max_bytes:
            return
        names = frozenset(variables)
        for ident, entry in list(self._entries.items()):
            if (
                entry.key == key
                and start_ms <= entry.start_ms
                and entry.end_ms <= end_ms
                and (not names or (entry.variables and entry.variables <= names))
            ):
                self._drop(ident)
        self._entries[self._next_id] = _Entry(key, start_ms, end_ms, names, frame, self._clock(), size)
        self._next_id += 1
        self.nbytes += size
        while self._entries and (self.nbytes > self.max_bytes or len(self._entries) > self.max_entries):
            self._drop(next(iter(self._entries)))

    def invalidate(self, asset_id: str | None = None, aspect: str | None = None) -> int:
        """Drop the entries of an asset (and aspect), or all; returns how many were dropped."""
        dropped = 0
        for ident, entry in list(self._entries.items()):
            if (asset_id is None or entry.key[0] == asset_id) and (aspect is None or entry.key[1] == aspect):
                self._drop(ident)
                dropped += 1
        return dropped

    def _drop(self, ident: int) -> None:
        entry = self._entries.pop(ident, None)
        if entry is not None:
            self.nbytes -= entry.nbytes


def _has(entry: _Entry, wanted: frozenset[str]) -> bool:
    """Whether ``entry`` holds ``wanted`` (empty: every variable of the aspect)."""
    if not entry.variables:  # read with every variable of the aspect
        return not wanted or wanted <= set(entry.frame.variables)
    return bool(wanted) and wanted <= entry.variables

"""Garbage-collector pauses in the app: long-lived objects out of the collector's way.

A full collection walks every object the collector tracks. After the first paint the app holds some
100 000 that live as long as it does (imported modules, styles, widgets); each full pass walked them all,
an 80-100 ms stall, and loading the 10 000 children of one asset triggered five (issue 8 §5: longest
stall 100 ms). ``LongLivedObjects.freeze()`` moves what is alive to the permanent generation
(``gc.freeze``) and collects the youngest generation every 10 000 allocations instead of 700, so bulk
loads make few, short passes; ``release()`` undoes both when the app ends (nothing frozen outlives it,
even when one process runs app after app, as the tests do). No Textual here.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000


class LongLivedObjects:
    """Freeze once (after the first paint), release once (when the app ends)."""

    def __init__(self, young_threshold: int = YOUNG_THRESHOLD) -> None:
        self.young_threshold = young_threshold
        self._saved: tuple[int, int, int] | None = None

    @property
    def frozen(self) -> bool:
        return self._saved is not None

    def freeze(self) -> None:
        if self._saved is not None:
            return
        self._saved = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(max(self.young_threshold, self._saved[0]), self._saved[1], self._saved[2])

    def release(self) -> None:
        if self._saved is None:
            return
        gc.unfreeze()
        gc.set_threshold(*self._saved)
        self._saved = None

"""A dependency-free progress bar for long command-line jobs (demo at scale, exports)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Prints `label  done/total (pct) rate` to a stream at most every `interval` seconds."""

    def __init__(
        self, label: str, total: int, stream: TextIO | None = None, interval: float = 0.5
    ) -> None:
        self.label = label
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream or sys.stderr
        self.interval = interval
        self._started = time.monotonic()
        self._last = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= self.interval or self.done >= self.total:
            self._last = now
            self._render(now)

    def _render(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-9)
        pct = 100.0 * self.done / self.total if self.total else 100.0
        width = 30
        filled = int(width * min(pct, 100.0) / 100)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(
            f"\r{self.label:<14} [{bar}] {self.done:>10,}/{self.total:,} "
            f"({pct:5.1f}%) {self.done / elapsed:,.0f}/s"
        )
        self.stream.flush()

    def close(self) -> None:
        self._render(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()

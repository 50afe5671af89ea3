"""Progress reporting for long file jobs: progress(done, total), called from the working thread."""

from __future__ import annotations

import math
from collections.abc import Callable

Progress = Callable[[int, int], None]


class Steps:
    """A running count of steps out of a total, reported on every add (never past the total)."""

    def __init__(self, total: int, callback: Progress | None) -> None:
        self.total, self.done, self.callback = max(1, total), 0, callback

    def add(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + max(0, n))
        if self.callback is not None:
            self.callback(self.done, self.total)

    def finish(self) -> None:
        self.done = self.total
        if self.callback is not None:
            self.callback(self.total, self.total)


class Budget:
    """A share of the steps for one phase that reports as it goes and never overshoots."""

    def __init__(self, steps: Steps, size: int) -> None:
        self.steps, self.size, self.used = steps, size, 0

    def add(self, n: int) -> None:
        take = min(n, self.size - 1 - self.used)
        if take > 0:
            self.used += take
            self.steps.add(take)

    def close(self) -> None:
        self.steps.add(self.size - self.used)
        self.used = self.size


class Ticker:
    """Calls progress(done, total) about 100 times at most, and always for the last step."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.step = max(1, math.ceil(total / 100))

    def __call__(self, done: int) -> None:
        if self.progress is not None and (done % self.step == 0 or done == self.total):
            self.progress(done, self.total)

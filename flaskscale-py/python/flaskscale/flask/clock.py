"""The ticker's clock: step boundaries on the wall-clock grid, driven by the monotonic clock."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Callable, List, Tuple

log = logging.getLogger("flaskscale.flask")


@dataclass
class _Clock:
    """Step boundaries on the wall-clock grid, driven by the monotonic clock so that a jump of
    the wall clock neither stalls the ticker nor sends a step back in time."""

    step: float
    wall: Callable[[], float] = time.time
    mono: Callable[[], float] = time.monotonic
    next_start: float = 0.0  # start (wall grid) of the step being counted
    next_close: float = 0.0  # monotonic time at which it closes
    jumps: int = 0
    late_steps: int = 0

    def align(self) -> float:
        """Starts counting at the next boundary; returns seconds to wait for it."""
        w, m = self.wall(), self.mono()
        first = math.floor(w / self.step) * self.step + self.step
        self.next_start = first
        self.next_close = m + (first - w) + self.step
        return first - w

    def due(self) -> Tuple[List[float], float]:
        """Starts of the steps that have closed (oldest first; several when the thread was late)
        and the seconds until the next close."""
        m = self.mono()
        if m < self.next_close:
            return [], self.next_close - m
        k = int((m - self.next_close) // self.step) + 1
        starts = [self.next_start + i * self.step for i in range(k)]
        if k > 1:
            self.late_steps += k - 1
        self.next_start += k * self.step
        self.next_close += k * self.step
        # compare with the wall clock: a forward jump of a step or more moves the grid on (the
        # skipped steps stay missing); a backward one never moves it back
        drift = self.wall() - self.next_start
        if drift >= self.step or drift < -max(1.0, 0.5 * self.step):
            self.jumps += 1
            log.warning("flaskscale: the wall clock jumped by %.1f s", drift)
            if drift >= self.step:
                self.next_start += math.floor(drift / self.step) * self.step
        return starts, max(0.0, self.next_close - self.mono())


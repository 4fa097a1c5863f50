"""Event budgets for sockets: Flask-Limiter covers HTTP only, so sockets need their own.

Each socket pays for an event from its own token bucket and from the buckets it shares with
the other sockets of the same chat, end user or agent on this process, so that opening more
sockets (tabs, scripts) does not multiply the budget. With several processes, sticky
sessions bring one client's sockets to one process.
"""

from __future__ import annotations

import time
from collections.abc import Hashable


class TokenBucket:
    """`rate` events per second on average, bursts of up to `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self) -> bool:
        self.refill(time.monotonic())
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Budget:
    """The buckets one socket's events are paid from: an event passes if each has a token."""

    def __init__(self, buckets: list[TokenBucket], keys: tuple[Hashable, ...] = ()) -> None:
        self.buckets = buckets
        self.keys = keys

    def take(self) -> bool:
        now = time.monotonic()
        for bucket in self.buckets:
            bucket.refill(now)
        if any(bucket.tokens < 1 for bucket in self.buckets):
            return False
        for bucket in self.buckets:
            bucket.tokens -= 1
        return True


class SharedBudgets:
    """The buckets shared by the sockets of one key (a chat, an end user, an agent), kept
    while at least one socket of that key is connected."""

    def __init__(self) -> None:
        self._shared: dict[Hashable, list] = {}  # key -> [bucket, sockets using it]

    def budget(self, rate: float, burst: int, keys: tuple[Hashable, ...]) -> Budget:
        buckets = [TokenBucket(rate, burst)]
        for key in keys:
            entry = self._shared.setdefault(key, [TokenBucket(rate, burst), 0])
            entry[1] += 1
            buckets.append(entry[0])
        return Budget(buckets, keys)

    def release(self, budget: Budget) -> None:
        for key in budget.keys:
            entry = self._shared.get(key)
            if entry is not None:
                entry[1] -= 1
                if entry[1] <= 0:
                    del self._shared[key]
        budget.keys = ()

    def __len__(self) -> int:
        return len(self._shared)

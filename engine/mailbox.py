"""A one-slot "latest wins" mailbox between concurrent stages.

A slow stage must make frames skip, never lag: a queue would grow and add
latency, a single slot holding only the newest value keeps it bounded. Readers
that want to block (the generator waiting for a new latent) wait for a newer
sequence number than the one they last saw.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Mailbox(Generic[T]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._value: T | None = None
        self._seq = 0

    def put(self, value: T) -> int:
        with self._cond:
            self._value = value
            self._seq += 1
            self._cond.notify_all()
            return self._seq

    def get(self) -> tuple[int, T | None]:
        with self._cond:
            return self._seq, self._value

    def wait_newer(self, seq: int, timeout: float) -> tuple[int, T | None]:
        """Block until a value newer than `seq` arrives or `timeout` passes; never longer."""
        with self._cond:
            self._cond.wait_for(lambda: self._seq > seq, timeout)
            return self._seq, self._value

    def wake(self) -> None:
        """Release every waiter (shutdown)."""
        with self._cond:
            self._cond.notify_all()

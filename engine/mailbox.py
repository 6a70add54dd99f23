"""A one-slot "latest wins" mailbox between concurrent stages.

A slow stage must make frames skip, never lag: a queue would grow and add
latency, a single slot holding only the newest value keeps it bounded. Readers
that want to block (the generator waiting for a new latent) wait for a newer
sequence number than the one they last saw.

A reader that waits on several mailboxes at once (the render thread: a new viewer or a new image,
whichever comes first) hands each of them the same `signal` event, which every put sets.

Sources hold their newest frame here too and empty it when the picture is gone (a camera
unplugged, a file ended), so that downstream sees an empty room rather than a frozen visitor.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Mailbox(Generic[T]):
    def __init__(self, signal: threading.Event | None = None) -> None:
        self._cond = threading.Condition()
        self._value: T | None = None
        self._seq = 0
        self._signal = signal

    def put(self, value: T) -> int:
        return self._set(value)

    def get(self) -> tuple[int, T | None]:
        with self._cond:
            return self._seq, self._value

    def latest(self) -> T | None:
        """The value alone, for a reader that polls and does not track sequence numbers."""
        with self._cond:
            return self._value

    def clear(self) -> int:
        """Empty the slot. This is news like a put (a new sequence number, waiters woken): a reader
        holding the old value must learn that it is gone, not keep showing it."""
        return self._set(None)

    def _set(self, value: T | None) -> int:
        with self._cond:
            self._value = value
            self._seq += 1
            self._cond.notify_all()
            if self._signal is not None:
                self._signal.set()
            return self._seq

    def wait_newer(self, seq: int, timeout: float) -> tuple[int, T | None]:
        """Block until a value newer than `seq` arrives or `timeout` passes; never longer."""
        with self._cond:
            self._cond.wait_for(lambda: self._seq > seq, timeout)
            return self._seq, self._value

    def wake(self) -> None:
        """Release every waiter (shutdown)."""
        with self._cond:
            self._cond.notify_all()

from __future__ import annotations

import threading
import time

from engine.clock import RealtimeClock
from engine.mailbox import Mailbox


def test_latest_wins_and_never_queues() -> None:
    box: Mailbox[int] = Mailbox()
    for i in range(100):
        box.put(i)
    assert box.get() == (100, 99)


def test_wait_newer_wakes_on_put_and_times_out() -> None:
    box: Mailbox[str] = Mailbox()
    t0 = time.perf_counter()
    assert box.wait_newer(0, 0.05) == (0, None)
    assert time.perf_counter() - t0 < 1.0
    threading.Timer(0.05, lambda: box.put("x")).start()
    assert box.wait_newer(0, 5.0) == (1, "x")


def test_clear_empties_the_slot_and_wakes_waiters() -> None:
    # Sources empty their slot when the picture is gone: a reader waiting on the old value must
    # wake up to "nothing", not keep the visitor frozen on screen.
    box: Mailbox[str] = Mailbox()
    seq = box.put("visitor")
    assert box.latest() == "visitor"
    threading.Timer(0.05, box.clear).start()
    assert box.wait_newer(seq, 5.0) == (seq + 1, None)
    assert box.latest() is None and box.get() == (seq + 1, None)


def test_a_shared_signal_wakes_a_reader_of_several_mailboxes() -> None:
    """The render thread waits for a viewer or an image, whichever comes first."""
    news = threading.Event()
    viewers: Mailbox[str] = Mailbox(news)
    images: Mailbox[str] = Mailbox(news)
    clock = RealtimeClock()
    threading.Timer(0.05, lambda: images.put("picture")).start()
    assert clock.wait_until(clock.now() + 5.0, news)
    assert clock.now() < 2.0
    assert images.get() == (1, "picture") and viewers.get() == (0, None)
    news.clear()
    t = clock.now()
    assert not clock.wait_until(t + 0.02, news)  # nothing new: back at the deadline
    assert clock.now() >= t + 0.02

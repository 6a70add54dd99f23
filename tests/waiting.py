"""Waiting for another process or thread in a test: poll a condition, fail naming what never came."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    cond: Callable[[], object], timeout: float = 5.0, what: str = "", poll: float = 0.005
) -> object:
    """The first truthy value of `cond()` within `timeout` seconds; AssertionError naming `what` after."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = cond()
        if got:
            return got
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")

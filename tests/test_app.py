"""The process object's small parts; the whole App runs in test_app_e2e.py and test_app_faults.py."""

from __future__ import annotations

import logging

import pytest

from engine.app import ErrorLog
from engine.control.osc.safety import LogThrottle


def test_error_log_counts_every_failure_and_says_it_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    # A stage failing every frame must not write 30 lines a second, yet the status page counts
    # every failure (engine/status.py reads .count) and the first one keeps its traceback.
    t = [0.0]
    errors = ErrorLog("render", LogThrottle(logging.getLogger("t.app"), interval=60.0, now=lambda: t[0]))
    first = RuntimeError("GL context lost")
    with caplog.at_level(logging.ERROR, logger="t.app"):
        errors(first)
        for i in range(99):
            t[0] += 0.5
            errors(RuntimeError(f"GL context lost {i}"))
        assert errors.count == 100
        assert len(caplog.records) == 1
        said = caplog.records[0]
        assert said.levelno == logging.ERROR and said.exc_info is not None and said.exc_info[1] is first
        assert said.getMessage() == "render failed (1 times so far): RuntimeError('GL context lost')"
        t[0] += 61.0
        errors(RuntimeError("still lost"))
    assert errors.count == 101 and len(caplog.records) == 2
    again = caplog.records[1]
    assert not again.exc_info  # one traceback is enough
    assert again.getMessage().startswith("render failed (101 times so far): RuntimeError('still lost')")
    assert "(99 more like it since last said)" in again.getMessage()

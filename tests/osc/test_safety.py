"""Allow-list, per-sender rate limit and the bounded log throttle."""

from __future__ import annotations

import logging

import pytest

from engine.control.osc.safety import AllowList, LogThrottle, RateLimiter, is_loopback_host, parse_network


class FakeTime:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_allow_list() -> None:
    allow = AllowList(["192.168.1.0/24", "10.0.0.5"])
    assert allow("127.0.0.1") and allow("127.3.2.1") and allow("::1")
    assert allow("192.168.1.77") and allow("10.0.0.5") and allow("::ffff:192.168.1.2")
    assert not allow("192.168.2.1") and not allow("10.0.0.6") and not allow("not an ip")
    assert AllowList(["*"])("8.8.8.8")
    assert not AllowList()("192.168.1.1")  # loopback only by default
    with pytest.raises(ValueError, match="not an IP address"):
        parse_network("example.com")
    assert is_loopback_host("localhost") and is_loopback_host("127.0.0.1")
    assert not is_loopback_host("0.0.0.0")


def test_rate_limiter_per_sender_and_bounded() -> None:
    clock = FakeTime()
    rl = RateLimiter(rate=100, burst=10, max_keys=4, now=clock)
    assert sum(rl.allow("a") for _ in range(50)) == 10  # the burst, then nothing
    assert rl.allow("b")  # another sender has its own bucket
    clock.t += 0.05
    assert sum(rl.allow("a") for _ in range(50)) == 5  # refilled at 100/s
    for i in range(100):
        rl.allow(f"spoof{i}")
    assert len(rl._buckets) == 4


def test_log_throttle_says_once_then_counts(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeTime()
    throttle = LogThrottle(logging.getLogger("t"), interval=60, max_keys=8, budget=5, now=clock)
    with caplog.at_level(logging.WARNING, logger="t"):
        for _ in range(1000):
            throttle("same", "problem %s", "x")
        assert len(caplog.records) == 1
        clock.t += 61
        throttle("same", "problem %s", "x")
        assert "999 more like it" in caplog.records[-1].getMessage()
        for i in range(10_000):  # a sender inventing new addresses: bounded lines, bounded memory
            throttle(f"k{i}", "unknown %s", i)
        assert len(caplog.records) <= 2 + 5
        assert len(throttle._keys) <= 8
        assert throttle.suppressed > 10_000 - 10


def test_log_throttle_overflow_speaks_the_callers_words(caplog: pytest.LogCaptureFixture) -> None:
    # The throttle serves cameras and stages as well as OSC: past max_keys its shared line must
    # name the latest problem as the caller said it, with no wording of its own about OSC senders.
    throttle = LogThrottle(logging.getLogger("t"), interval=60, max_keys=2, budget=10, now=FakeTime())
    with caplog.at_level(logging.WARNING, logger="t"):
        throttle("a", "camera 0 %s", "not found")
        throttle("b", "camera 0 %s", "stalled")
        throttle("c", "camera 0 %s", "frozen")
    assert caplog.records[-1].getMessage() == "many different problems; the latest: camera 0 frozen"

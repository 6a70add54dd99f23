"""Opening hours in the running engine: /engine/sleep fades to black and pauses the work,
/engine/wake brings the picture back (real loop, real OSC over UDP)."""

from __future__ import annotations

import socket
import time

import pytest

from engine.config import load_config
from engine.control.osc.wire import encode_message
from engine.procstat import sample

from .osc.conftest import RunningApp

pytestmark = pytest.mark.slow


def test_sleep_and_wake_over_osc(tmp_path) -> None:
    cfg = load_config(
        None,
        {
            "run": {"source": "demo", "headless": True, "size": "320x180"},
            "osc": {"listen": "127.0.0.1:0"},
            "schedule": {"fade_s": 0.5},
            "watchdog": {"stage_s": 2.0, "check_every_s": 0.25},  # asleep longer than stage_s
        },
    )
    running = RunningApp(cfg)
    app = running.app
    levels: list[float] = []
    app.on_frame = lambda rgb, step: levels.append(float(rgb.mean()))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def wait_for(cond, timeout=15.0):
        end = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < end, "timed out"
            time.sleep(0.05)

    try:
        wait_for(lambda: len(levels) > 10)
        assert levels[-1] > 10  # the picture shows
        tx.sendto(encode_message("/engine/sleep", ()), running.osc_address)
        wait_for(lambda: app.status()["sleeping"])
        asleep_at = app.presented
        cpu0, t0 = sample().cpu_s, time.monotonic()
        time.sleep(3)
        cpu = (sample().cpu_s - cpu0) / (time.monotonic() - t0)
        gen_age = app.metrics.stage_age("generator", app.wall.now())
        assert max(levels[-3:]) < 1.0  # black
        assert gen_age is not None and gen_age > 2.5  # the generator pauses
        assert 2 <= app.presented - asleep_at <= 12  # still presenting (systemd pings), ~2 fps
        assert app.watchdog.ok  # sleeping is not a fault
        tx.sendto(encode_message("/engine/wake", ()), running.osc_address)
        wait_for(lambda: not app.status()["sleeping"] and levels[-1] > 10)
        time.sleep(3)  # waking is not a fault: the stages' last runs are old, but they run again
        assert sum(app.watchdog.steps.values()) == 0, app.watchdog.status()
        print(f"\nasleep: {cpu * 100:.0f}% of a core; awake again with a picture")
        assert cpu < 0.5
    finally:
        tx.close()
        running.close()

"""Response latency: the real engine answers a head tilt; the picture starts to move, then gets halfway."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from engine import bench
from engine.bench_response import PRE_S, measure_step
from tests.test_bench_report import assert_real_plot


def test_measure_step_finds_start_and_half_of_a_known_change() -> None:
    t = np.arange(-1.0, 2.0, 1 / 30)  # presented frames at 30 fps, step at 0
    rng = np.random.default_rng(0)
    noise = 0.3 * rng.random(len(t))
    ramp = np.clip((t - 0.2) / 0.4, 0, 1) * 20.0  # moves after 200 ms, halfway at 400 ms
    m = measure_step(t, noise + ramp, 0.0, 2.0, floor=0.25)
    assert 200 < m["start_ms"] < 240 and 390 < m["half_ms"] < 440
    assert m["threshold"] <= 1.5 * 0.3 and 19 < m["change"] < 21
    still = measure_step(t, noise, 0.0, 2.0, floor=0.25)  # only noise: no response is invented
    assert math.isnan(still["start_ms"]) and math.isnan(still["half_ms"])
    blind = measure_step(t[t > -PRE_S / 2], (noise + ramp)[t > -PRE_S / 2], 0.0, 2.0, floor=0.25)
    assert blind["start_ms"] < blind["half_ms"]  # a short pre-window still measures


@pytest.mark.slow
def test_response_mode_measures_the_real_loop(tmp_path: Path, capsys) -> None:
    out = tmp_path / "resp.json"
    argv = ["--response", "--steps", "2", "--hold", "2", "--size", "320x180", "--json", str(out)]
    assert bench.main(argv) == 0
    r = json.loads(out.read_text())["response"]
    for key in ("start_ms", "half_ms", "latent_half_ms", "feature_half_ms"):
        assert r[key] is not None and math.isfinite(r[key]) and r[key] > 0, (key, r)
    assert r["start_ms"] < r["half_ms"] < 2000
    assert r["steps_seen"] == 2 and r["image_change"] > 2 * r["image_threshold"]
    assert_real_plot(tmp_path / "resp-response.png")
    assert "half way" in capsys.readouterr().out

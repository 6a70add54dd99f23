"""Learning the room's ranges from real perception (the demo visitor), and rescaling with them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from calibration.__main__ import main
from calibration.files import CalibrationError, load, save
from calibration.learn import (
    MIN_SAMPLES,
    STEP,
    FeatureRange,
    Ranges,
    Rescaler,
    learn,
    rescale,
    validate,
)
from engine.messages import Viewer
from engine.perception.features import FEATURES, neutral_features
from engine.pipeline import calibration_line

FRAMES = 110  # the demo visitor is present from the third frame (presence_on_frames): 108 samples


@pytest.fixture(scope="module")
def learned(tmp_path_factory) -> tuple[Path, Ranges]:
    room = tmp_path_factory.mktemp("room")
    assert main(["learn", "--source", "demo", "--frames", str(FRAMES), "--room", str(room)]) == 0
    ranges = load(room, STEP, validate)
    assert isinstance(ranges, Ranges)
    return room, ranges


def test_learn_on_the_demo_writes_robust_ranges(learned: tuple[Path, Ranges]) -> None:
    room, ranges = learned
    data = json.loads((room / "ranges.json").read_text())
    assert data["step"] == "ranges" and data["source"] == "demo" and data["made_by"].startswith("python -m")
    assert MIN_SAMPLES <= ranges.samples <= FRAMES
    assert not {"presence", "count", "viewer_id"} & set(ranges.features)  # counts are not learned
    d = ranges.features["distance"]
    # the demo portrait stays large and near: a narrow band high in the 0..1 range
    assert 0.5 < d.p5 < d.p95 < 0.95 and d.samples == ranges.samples
    assert "distance" in ranges.rescaled() and "x" in ranges.rescaled()
    assert "distance_m" not in ranges.rescaled()  # metres are metres (and 0 without camera.json)
    assert "left_hand_height" not in ranges.rescaled()  # her hands are never seen: no spread


def test_too_few_present_frames_writes_nothing(learned: tuple[Path, Ranges], capsys) -> None:
    room, _ = learned
    before = (room / "ranges.json").read_bytes()
    assert main(["learn", "--source", "demo", "--frames", "12", "--room", str(room)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("calibration error: ") and "\n" not in err
    assert "only 10 frames with a visitor present (at least 100 needed); nothing written" in err
    assert (room / "ranges.json").read_bytes() == before


def test_a_bad_source_is_one_line(tmp_path: Path, capsys) -> None:
    assert main(["learn", "--source", str(tmp_path / "none.mp4"), "--room", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "none.mp4" in err and "\n" not in err and not (tmp_path / "ranges.json").exists()


def test_rescale_maps_p5_to_lo_and_p95_to_hi_and_keeps_the_raw(learned: tuple[Path, Ranges]) -> None:
    _, ranges = learned
    d, x = ranges.features["distance"], ranges.features["x"]
    f = {**neutral_features(), "presence": 1.0, "count": 1.0, "viewer_id": 3.0, "distance_m": 2.5}
    for value, expected in ((d.p5, 0.0), (d.p95, 1.0), ((d.p5 + d.p95) / 2, 0.5), (d.p95 + 0.1, 1.0)):
        out = rescale({**f, "distance": value, "x": x.p5}, ranges)
        assert out["distance"] == pytest.approx(expected, abs=1e-9)  # clamped past p95
        assert out["raw_distance"] == value
        assert out["x"] == pytest.approx(-1.0) and out["raw_x"] == x.p5  # x spans -1..1
        assert out["viewer_id"] == 3.0 and out["count"] == 1.0 and out["distance_m"] == 2.5
        assert "raw_distance_m" not in out and "raw_presence" not in out
        assert all(FEATURES[n].lo <= out[n] <= FEATURES[n].hi for n in FEATURES)


def test_nobody_present_stays_neutral() -> None:
    ranges = Ranges({"x": FeatureRange(0.2, 0.6, 200)}, 200)
    out = rescale(neutral_features(), ranges)
    assert out["x"] == 0.0 and out["raw_x"] == 0.0  # not mapped to -2: calm is calm


def test_learn_takes_percentiles_of_present_samples() -> None:
    rng = np.random.default_rng(0)
    samples = [{"distance": float(v), "smile": 0.3} for v in rng.uniform(0.2, 0.6, 1000)]
    out = learn(samples)
    assert out["distance"]["p5"] == pytest.approx(0.22, abs=0.01)
    assert out["distance"]["p95"] == pytest.approx(0.58, abs=0.01)
    assert out["distance"]["samples"] == 1000 and out["smile"]["p5"] == out["smile"]["p95"] == 0.3


@pytest.mark.parametrize(
    ("features", "says"),
    [
        ({"distance": {"p5": 0.8, "p95": 0.2, "samples": 100}}, "features.distance: p5 0.8 is above p95 0.2"),
        ({"nose": {"p5": 0.1, "p95": 0.2, "samples": 100}}, "features.nose is no feature"),
        (
            {"distance": {"p5": -0.5, "p95": 0.2, "samples": 100}},
            "features.distance: p5 = -0.5 is outside 0..1",
        ),
        ({}, "features must be"),
    ],
)
def test_bad_ranges_file_is_one_line(tmp_path: Path, features: dict, says: str) -> None:
    with pytest.raises(CalibrationError) as e:
        save(tmp_path, STEP, "test", {"samples": 100, "features": features}, validate)
    assert says in str(e.value) and str(e.value).startswith(str(tmp_path / "ranges.json"))
    assert not (tmp_path / "ranges.json").exists()


def test_the_pipeline_rescales_before_the_scenes_and_shows_the_calibration(
    learned: tuple[Path, Ranges], shipped_model
) -> None:
    from engine.config import load_config
    from engine.pipeline import Pipeline

    room, ranges = learned
    cfg = load_config(
        None,
        {"run": {"calibration": str(room), "model": str(shipped_model), "headless": True, "hud": True},
         "osc": {"listen": "off"}},
    )  # fmt: skip
    assert cfg.room.active() == ["ranges"]
    pipeline = Pipeline(cfg)
    try:
        d = ranges.features["distance"]
        f = {**neutral_features(), "presence": 1.0, "count": 1.0, "viewer_id": 1.0, "distance": d.p95}
        step = pipeline.advance(Viewer(f, 0.0, 0), 0.0, 1 / 30)
        assert step.viewer.features["distance"] == pytest.approx(1.0)
        assert step.viewer.features["raw_distance"] == d.p95
        assert "calibration: ranges" in pipeline.hud_lines(step.viewer)
    finally:
        pipeline.close()


def test_calibration_line_and_rescaler_without_ranges(tmp_path: Path) -> None:
    from calibration.room import Room, load_room

    assert calibration_line(Room()) == ""  # no folder asked for: no line
    assert calibration_line(load_room(tmp_path)) == "calibration: none"  # a folder, empty
    assert calibration_line(Room(tmp_path, zone=object(), ranges=object())) == "calibration: zone ranges"
    v = Viewer(neutral_features(), 0.0, 0)
    assert Rescaler(None)(v) is v
    r = Rescaler(Ranges({"x": FeatureRange(0.2, 0.6, 200)}, 200))
    assert r(v) is r(v) and r(v) is not v  # one rescale per perceived frame, however often it's shown

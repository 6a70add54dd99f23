"""The zone: its file, the editor's state machine, the overlay, and who counts on real photographs.

The people are two real portraits (the astronaut from skimage, Grace Hopper from matplotlib) on a
960×480 frame (engine.perception.bench.place / two_people), run through the engine's own Perceiver
in video mode at 30 fps. Walking is the photo moving between frames, stepping back is it shrinking.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from calibration.__main__ import main
from calibration.files import CalibrationError, load
from calibration.zone import Zone, crossing, save_zone, validate, zone_filter, zone_settings
from calibration.zone_overlay import render_overlay
from calibration.zone_ui import Click, Key, ZoneEditor, portraits
from engine.messages import Frame
from engine.perception import Perceiver, PerceptionSettings
from engine.perception.bench import place, two_people

SIZE = (960, 480)
FPS = 30
LEFT_HALF = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]


def zone_data(polygon=None, **kw) -> dict:
    return {"polygon": polygon or LEFT_HALF, "distance": [0.0, 1.0], "image_size": list(SIZE), **kw}


# ------------------------------------------------------------------ the file
def test_a_valid_zone_is_frozen_and_round_trips(tmp_path: Path) -> None:
    z = validate(zone_data(anchor="feet", distance=[0.2, 0.9], distance_m=[0.5, 4.0]), "zone.json")
    assert z.polygon[1] == (0.5, 0.0) and z.anchor == "feet" and z.distance_m == (0.5, 4.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        z.anchor = "centre"  # type: ignore[misc]
    save_zone(tmp_path, z)
    assert load(tmp_path, "zone", validate) == z


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (zone_data([[0.1, 0.1], [0.9, 0.1]]), "polygon has 2 points; a zone needs at least 3"),
        (zone_data([[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]), "edges 1-2 and 3-4 cross"),
        (zone_data([[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]]), "no area"),
        (zone_data([[0.1, 0.1], [1.5, 0.1], [0.5, 0.9]]), "0..1"),
        (zone_data(distance=[0.8, 0.3]), "distance [0.8, 0.3]"),
        (zone_data(distance_m=[4.0, 1.0]), "distance_m: near 4.0 m is beyond far 1.0 m"),
        (zone_data(anchor="head"), "anchor must be one of centre, feet"),
        ({"polygon": "left", "distance": [0, 1], "image_size": [640, 480]}, "polygon must be"),
    ],
)
def test_bad_zones_give_one_line_naming_file_and_key(data: dict, says: str) -> None:
    with pytest.raises(CalibrationError) as e:
        validate(data, "room/zone.json")
    msg = str(e.value)
    assert msg.startswith("room/zone.json: ") and says in msg and "\n" not in msg


def test_crossing_finds_a_bow_tie_and_accepts_concave_shapes() -> None:
    assert crossing([(0, 0), (1, 1), (1, 0), (0, 1)]) == (0, 2)
    assert crossing([(0, 0), (1, 0), (1, 1), (0.5, 0.3), (0, 1)]) is None  # concave, fine
    assert crossing([(0, 0), (1, 0), (0.5, 0), (0.5, 1)]) is not None  # an edge doubling back on one


def test_cli_bad_polygon_exits_2_and_keeps_the_good_file(tmp_path: Path, capsys) -> None:
    good = ["zone", "--room", str(tmp_path), "--points", "0.1,0.1 0.6,0.1 0.6,0.9", "--size", "960x480"]
    assert main(good) == 0
    before = (tmp_path / "zone.json").read_bytes()
    bads = (["--points", "0.1,0.1 0.6,0.1"], ["--points", "0,0 1,1 1,0 0,1"], ["--distance", "0.9", "0.2"])
    for bad in bads:
        args = ["zone", "--room", str(tmp_path), "--points", "0.1,0.1 0.6,0.1 0.6,0.9", *bad]
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("calibration error: ") and "\n" not in err and "zone.json" in err
    assert (tmp_path / "zone.json").read_bytes() == before
    assert main([*good, "--distance-m", "0.5", "3"]) == 2  # metres without camera.json: no focal length
    assert "distance_m needs camera.json" in capsys.readouterr().err
    assert (tmp_path / "zone.json").read_bytes() == before


def test_anchor_and_distance_band_decide_who_is_inside() -> None:
    z = validate(zone_data([[0.0, 0.0], [0.5, 0.0], [0.5, 0.7], [0.0, 0.7]], distance=[0.4, 1.0]), "z")
    near = (0.1, 0.1, 0.4, 0.8)  # centre (0.25, 0.45): inside; 288×336 px
    assert z.admits(near)
    assert not z.admits((0.6, 0.1, 0.9, 0.6))  # right of the polygon
    assert not dataclasses.replace(z, anchor="feet").admits(near)  # feet at y 0.8: below it
    far = (0.2, 0.3, 0.25, 0.4)  # 48×48 px: a person far back
    assert z.box_distance(far) < 0.4 < z.box_distance(near) and not z.admits(far)
    with pytest.raises(CalibrationError, match="distance_m needs camera.json"):
        zone_filter(dataclasses.replace(z, distance_m=(0.5, 3.0)), None)


def test_a_zone_raises_max_people_to_two() -> None:
    z = validate(zone_data(), "z")
    s = PerceptionSettings()
    assert s.max_people == 1 and zone_settings(s, z).max_people == 2 and zone_settings(s, None) is s
    assert zone_settings(dataclasses.replace(s, max_people=4), z).max_people == 4


# ------------------------------------------------------------------ the editor (headless)
def editor(room: Path, **kw) -> ZoneEditor:
    return ZoneEditor(room, SIZE, {"anchor": "centre", "distance": [0.0, 1.0], "distance_m": None}, **kw)


def test_editor_clicks_undo_reset_and_save(tmp_path: Path) -> None:
    ed = editor(tmp_path)
    for x, y in [(0.1, 0.1), (0.6, 0.1), (2.0, 0.5), (0.6, 0.9)]:
        ed.handle(Click(x, y))
    assert ed.points[2] == (1.0, 0.5)  # a click beyond the picture lands on its edge
    ed.handle(Key("backspace"))
    ed.handle(Key("backspace"))
    assert ed.points == [(0.1, 0.1), (0.6, 0.1)]
    ed.handle(Key("s"))  # two points: no zone, the reason shows, nothing written, still open
    assert not ed.done and "at least 3" in ed.message and not (tmp_path / "zone.json").exists()
    ed.handle(Key("r"))
    assert ed.points == []
    for x, y in [(0.1, 0.1), (0.6, 0.1), (0.6, 0.9), (0.1, 0.9)]:
        ed.handle(Click(x, y))
    ed.handle(Key("s"))
    assert ed.done and ed.saved == tmp_path / "zone.json"
    assert load(tmp_path, "zone", validate).polygon == ((0.1, 0.1), (0.6, 0.1), (0.6, 0.9), (0.1, 0.9))
    ed.handle(Click(0.5, 0.5))  # after S the editor is finished
    assert len(ed.points) == 4


def test_editor_escape_and_a_crossing_polygon_keep_the_old_file(tmp_path: Path) -> None:
    save_zone(tmp_path, validate(zone_data(), "z"))
    before = (tmp_path / "zone.json").read_bytes()
    ed = editor(tmp_path, points=validate(zone_data(), "z").polygon)
    ed.handle(Key("r"))
    for x, y in [(0.1, 0.1), (0.9, 0.9), (0.9, 0.1), (0.1, 0.9)]:  # a bow tie
        ed.handle(Click(x, y))
    ed.handle(Key("s"))
    assert "cross" in ed.message and not ed.done
    ed.handle(Key("escape"))
    assert ed.done and ed.saved is None
    assert (tmp_path / "zone.json").read_bytes() == before


# ------------------------------------------------------------------ the overlay (real GL, headless)
def test_overlay_marks_inside_green_outside_red_and_dims_outside() -> None:
    from tests.render.conftest import egl_absent

    if absent := egl_absent():
        pytest.skip(absent)
    image = np.full((SIZE[1], SIZE[0], 3), 200, np.uint8)
    people = [((0.1, 0.3, 0.3, 0.9), True, (0.2, 0.6)), ((0.6, 0.3, 0.8, 0.9), False, (0.7, 0.6))]
    out = render_overlay(image, [(0.02, 0.05), (0.5, 0.05), (0.5, 0.95), (0.02, 0.95)], people, (), SIZE)
    assert out.shape == (480, 960, 3)
    assert abs(int(out[240, 150, 0]) - 200) <= 2 and out[240, 880, 0] == 90  # inside kept, outside dimmed
    edge = out[240, 478:483].astype(int)  # the polygon's right edge at x = 480: yellow
    assert (edge[:, 0] > 240).any() and (edge[:, 2] < 60).any()
    green, red = out[288, 96], out[288, 576]  # the left edges of the two boxes
    assert green[1] > 200 and green[0] < 100 and red[0] > 200 and red[1] < 100


# ------------------------------------------------------------------ who counts, on real photos
def scene(astronaut: float, hopper: float, hopper_x: float = 0.75) -> np.ndarray:
    """The astronaut standing at x 0.25, Grace Hopper at `hopper_x`, each scaled (1 = full height)."""
    a, g = _portraits()
    if hopper_x == 0.75 and astronaut > 0 and hopper > 0:
        return two_people(a, g, astronaut, hopper, SIZE)
    canvas = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    if astronaut > 0:
        place(canvas, a, 0.25, astronaut)
    place(canvas, g, hopper_x, hopper)
    return canvas


_portraits = cache(portraits)


def run(p, frames: list[tuple[float, float, float]]) -> list[dict[str, float]]:
    return [dict(p.process(Frame(scene(*f), i / FPS, i, "test")).features) for i, f in enumerate(frames)]


def settings(**kw) -> PerceptionSettings:
    return PerceptionSettings(max_people=2, presence_on_frames=2, crossfade_s=0.3, **kw)


def test_a_person_alone_outside_the_zone_is_ignored() -> None:
    zone = validate(zone_data(), "z")  # the left half; Grace Hopper stands in the right
    alone = [(0.0, 1.0, 0.75)] * 10
    with Perceiver(settings(), allowed=zone_filter(zone)) as p:
        inside = run(p, alone)
        tracked = p._people.people
    assert all(f["presence"] == 0.0 and f["count"] == 0.0 for f in inside)
    assert tracked and not any(zone.admits(q.box) for q in tracked)  # seen, and outside
    with Perceiver(settings()) as p:  # the same frames without a zone: she is there
        assert run(p, alone)[-1]["presence"] == 1.0


def test_the_viewer_inside_wins_over_a_bigger_person_outside(tmp_path: Path) -> None:
    """From the command line to the engine: zone.json → [run] calibration → build_perceiver."""
    from engine.config import load_config
    from engine.perception.crowd import build_perceiver

    points = ["--points", "0,0 0.5,0 0.5,1 0,1", "--size", "960x480"]
    assert main(["zone", "--room", str(tmp_path), *points]) == 0
    perception = {"presence_on_frames": 2, "switch_after_s": 0.5}
    cfg = load_config(None, {"run": {"calibration": str(tmp_path)}, "perception": perception})
    assert isinstance(cfg.room.zone, Zone) and cfg.perception.max_people == 1
    p = build_perceiver(cfg)
    try:
        assert p.settings.max_people == 2  # raised for the zone
        views = run(p, [(0.6, 1.0, 0.75)] * 36)  # Grace Hopper far larger, for over twice switch_after_s
    finally:
        p.close()
    assert all(f["presence"] == 1.0 and f["count"] == 1.0 for f in views[2:])
    assert all(f["x"] < -0.2 for f in views[2:])  # the astronaut's head, left of centre, all along
    assert len({f["viewer_id"] for f in views[2:]}) == 1


def handover(views: list[dict[str, float]], start: int) -> int:
    """The frame the viewer changed at, after checking it changed once and for good."""
    ids = [f["viewer_id"] for f in views]
    assert ids[start - 1] != 0.0 and ids[-1] not in (0.0, ids[start - 1])
    switch = ids.index(ids[-1], start)
    assert set(ids[start - 1 : switch]) == {ids[start - 1]} and set(ids[switch:]) == {ids[-1]}
    assert all(f["presence"] == 1.0 for f in views[1:])
    return switch


def test_handover_when_the_viewer_walks_out_of_the_polygon() -> None:
    """Grace Hopper (the larger, so the viewer) walks right, past the zone's edge at x 0.8: the
    astronaut takes over at once, though with switch_after_s = 2 s prominence alone would wait."""
    zone = validate(zone_data([[0.0, 0.0], [0.8, 0.0], [0.8, 1.0], [0.0, 1.0]]), "z")
    walk = [(1.0, 1.0, 0.75 + 0.2 * k / 10) for k in range(1, 11)]
    frames = [(1.0, 1.0, 0.75)] * 8 + walk + [(1.0, 1.0, 0.95)] * 12
    with Perceiver(settings(switch_after_s=2.0), allowed=zone_filter(zone)) as p:
        views = run(p, frames)
        outside = [q for q in p._people.people if not zone.admits(q.box)]
    assert views[7]["x"] > 0.3 and views[7]["count"] == 2.0  # Grace Hopper is the viewer
    switch = handover(views, 8)
    assert switch - 8 <= 8  # within the walk, long before 2 s (60 frames)
    assert views[-1]["x"] < -0.3 and views[-1]["count"] == 1.0  # the astronaut's; Hopper ignored
    assert len(outside) == 1 and outside[0].seen  # still in view, only outside


def test_handover_when_the_viewer_steps_back_out_of_the_band() -> None:
    """The band is [0.5, 1]: Grace Hopper, the viewer, steps back (her photo shrinks to 0.55) and
    leaves it; the astronaut, still near enough, takes over at once."""
    zone = validate(zone_data([[0, 0], [1, 0], [1, 1], [0, 1]], distance=[0.5, 1.0]), "z")
    back = [(1.0, 1.0 - 0.45 * k / 8, 0.75) for k in range(1, 9)]
    frames = [(1.0, 1.0, 0.75)] * 6 + back + [(1.0, 0.55, 0.75)] * 12
    with Perceiver(settings(switch_after_s=2.0), allowed=zone_filter(zone)) as p:
        views = run(p, frames)
    assert views[5]["x"] > 0.3 and views[5]["count"] == 2.0
    switch = handover(views, 6)
    assert switch - 6 <= 9
    assert views[-1]["x"] < -0.3 and views[-1]["count"] == 1.0


# ------------------------------------------------------------------ the real window (Xvfb)
def test_the_window_takes_clicks_and_saves_the_zone(tmp_path: Path) -> None:
    """edit_live in a real pygame window on a private Xvfb: 5 clicks, Backspace, S → zone.json."""
    import os
    import shutil
    import subprocess
    import sys

    import cv2

    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb not installed (apt-get install -y xvfb)")
    from tests.render.test_window import ROOT, x_display

    display = x_display.__wrapped__()  # the render tests' private Xvfb, as a plain generator
    try:
        number = next(display)
        photo = tmp_path / "two.png"
        cv2.imwrite(str(photo), cv2.cvtColor(scene(1.0, 1.0), cv2.COLOR_RGB2BGR))
        env = {**os.environ, "DISPLAY": number, "SDL_VIDEODRIVER": "x11", "PYTHONPATH": str(ROOT)}
        env.pop("WAYLAND_DISPLAY", None)
        shot = tmp_path / "window.png"
        check = "tests.calibration.zone_window_check"
        args = [sys.executable, "-m", check, str(tmp_path), str(photo), str(shot)]
        result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    finally:
        display.close()
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-2000:]}"
    zone = load(tmp_path, "zone", validate)
    expected = [(0.02, 0.05), (0.5, 0.05), (0.5, 0.95), (0.02, 0.95)]  # the 4th click undone
    assert np.allclose(zone.polygon, expected, atol=1 / 960)  # clicks land on whole pixels
    assert zone.image_size == SIZE
    window = cv2.cvtColor(cv2.imread(str(shot)), cv2.COLOR_BGR2RGB)
    edge = window[240, 478:483].astype(int)  # the polygon's right edge at x = 480, drawn in the window
    assert window.shape == (480, 960, 3) and (edge[:, 0] > 240).any() and (edge[:, 2] < 60).any()
    dot = window[286:291, 161:166].reshape(-1, 3).astype(int)  # the astronaut's centre: green, inside
    assert ((dot[:, 1] > 200) & (dot[:, 0] < 100)).mean() > 0.8

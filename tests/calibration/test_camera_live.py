"""The live camera step without a camera or a window: the view picker on synthetic corner sequences,
the session on OpenCV's real board photos, the overlay through the real GL blit, and the engine's
use of camera.json (straightened frames, distance_m) on a real photograph."""

from __future__ import annotations

import glob
import json
from pathlib import Path

import numpy as np
import pytest

from calibration.camera import calibrate
from calibration.camera_live import LiveSession, draw, replay, screenshot
from calibration.camera_views import Board, ViewPicker

SIZE = (1280, 720)
FPS = 30.0
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
PHOTOS = sorted(glob.glob(str(OPENCV_DATA / "left[01]*.jpg")))
needs_photos = pytest.mark.skipif(not PHOTOS, reason="apt-get install opencv-doc (OpenCV's board photos)")


def grid(x: float, y: float, step: float = 40.0) -> np.ndarray:
    """A 9x6 board's corners, axis-aligned, top-left corner at (x, y)."""
    g = np.mgrid[0:9, 0:6].T.reshape(-1, 2).astype(np.float32)
    return g * step + np.float32([x, y])


def feed(picker: ViewPicker, corners, seconds: float, t: float, jitter: float = 0.5, seed: int = 0, **kw):
    """Frames of the same corners (± jitter px) for `seconds`; returns (decisions, time after)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(round(seconds * FPS)):
        c = (
            None
            if corners is None
            else corners + rng.uniform(-jitter, jitter, corners.shape).astype(np.float32)
        )
        out.append((t, picker.update(c, t, **kw)))
        t += 1.0 / FPS
    return out, t


def test_a_board_held_still_is_taken_after_half_a_second() -> None:
    picker = ViewPicker(SIZE)
    decisions, _ = feed(picker, grid(100, 100), 1.0, 10.0)
    taken = [t for t, d in decisions if d.taken]
    assert len(taken) == 1 and 10.5 <= taken[0] < 10.5 + 2 / FPS
    assert all(d.state == "hold still" for t, d in decisions if t < taken[0])
    assert decisions[-1][1].state.startswith("too close to a view taken")
    assert len(picker.views) == 1 and 0 < picker.coverage < 0.2


def test_a_moving_board_is_never_taken() -> None:
    picker = ViewPicker(SIZE)
    t = 0.0
    for i in range(90):  # 3 s, drifting 4 px a frame
        d = picker.update(grid(100 + 4 * i, 100), t)
        assert not d.taken and d.hold < 0.2
        t += 1 / FPS


def test_novelty_lost_board_blur_and_undo() -> None:
    picker = ViewPicker(SIZE)
    _, t = feed(picker, grid(100, 100), 0.7, 0.0)
    # moved a little (20 px < 5 % of the diagonal): never a second view
    decisions, t = feed(picker, grid(120, 100), 1.0, t)
    assert not any(d.taken for _, d in decisions) and len(picker.views) == 1
    # the same pose turned half round (corners found in reverse order) is still the same view
    decisions, t = feed(picker, grid(100, 100)[::-1].copy(), 1.0, t)
    assert not any(d.taken for _, d in decisions)
    # the board lost for one frame: stillness starts again
    far = grid(700, 300)
    _, t = feed(picker, far, 0.4, t)
    _, t = feed(picker, None, 1 / FPS, t)
    decisions, t = feed(picker, far, 0.4, t)
    assert not any(d.taken for _, d in decisions)
    decisions, t = feed(picker, far, 0.2, t)
    assert sum(d.taken for _, d in decisions) == 1 and len(picker.views) == 2
    cover = picker.coverage
    # a blurred board is not taken, however still
    decisions, t = feed(picker, grid(300, 400), 1.0, t, edge_px=8.0)
    assert not any(d.taken for _, d in decisions) and decisions[-1][1].state.startswith("blurred")
    picker.undo()
    assert len(picker.views) == 1 and picker.coverage < cover


@needs_photos
def test_a_live_session_on_real_photos_calibrates(capsys: pytest.CaptureFixture) -> None:
    board = Board(9, 6, 0.025)
    session = LiveSession(board, target=15)
    import cv2

    images = [cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB) for p in PHOTOS]
    assert session.key("return") is None and "at least 5" in session.decision.state
    replay(session, images)
    assert 5 <= len(session.views) < len(images)  # the near-duplicates were not taken
    assert session.key("backspace") is None and "dropped" in session.decision.state
    assert session.key("c") == "calibrate" and session.key("escape") == "quit"
    body = calibrate(session.views, board, session.size)
    assert body["rms_px"] < 0.5
    assert body["camera_matrix"][0][0] == pytest.approx(535.9, rel=0.02)
    line = session.status_line()
    assert line.startswith(f"views {len(session.views)}/15   coverage ")


@needs_photos
def test_the_overlay_renders_through_the_window_blit(tmp_path: Path) -> None:
    """The docs' screenshot path: the overlay drawn, blitted by GL (EGL), read back unchanged."""
    import cv2

    rgb = screenshot(PHOTOS[:4], Board(9, 6, 0.025), str(tmp_path / "camera.png"))
    photo = cv2.cvtColor(cv2.imread(PHOTOS[3]), cv2.COLOR_BGR2RGB)
    assert rgb.shape == photo.shape and (tmp_path / "camera.png").is_file()
    session = LiveSession(Board(9, 6, 0.025))
    t = replay(session, [cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB) for p in PHOTOS[:3]])
    t = replay(session, [photo], hold_s=0.3, t=t + 1.0) - 1 / 30
    drawn = draw(photo, session, t)
    assert np.abs(rgb.astype(int) - drawn.astype(int)).max() <= 1  # top row first, colours kept
    assert np.abs(drawn.astype(int) - photo.astype(int)).mean() > 10  # the overlay is there
    # covered cells are tinted green, an uncovered corner cell is not
    cells = session.picker.cells
    r, c = np.argwhere(cells > 0)[0]
    h, w = photo.shape[:2]
    cell = (slice(r * h // 6 + 3, (r + 1) * h // 6 - 3), slice(c * w // 8 + 3, (c + 1) * w // 8 - 3))

    def greenness(img: np.ndarray) -> float:
        x = img[cell].astype(float)
        return float((x[..., 1] - (x[..., 0] + x[..., 2]) / 2).mean())

    assert greenness(drawn) - greenness(photo) > 20
    corner = (slice(3, h // 6 - 3), slice(w - w // 8 + 3, w - 3))
    assert cells[0, -1] == 0 and np.abs(drawn[corner].astype(int) - photo[corner]).max() <= 1


# ------------------------------------------------------------------ the engine's use of camera.json
def _room(tmp_path: Path, size: tuple[int, int], f: float) -> Path:
    from calibration.camera import validate
    from calibration.files import save

    body = {
        "camera_matrix": [[f, 0, size[0] / 2], [0, f, size[1] / 2], [0, 0, 1]],
        "dist_coeffs": [-0.05, 0.0, 0.0, 0.0, 0.0],
        "image_size": list(size),
        "rms_px": 0.2,
    }
    save(tmp_path, "camera", "test", body, validate)
    json.loads((tmp_path / "camera.json").read_text())
    return tmp_path


def test_the_engine_straightens_frames_and_measures_metres(tmp_path: Path) -> None:
    import skimage.data

    from calibration.undistort import Undistorted
    from engine.config import load_config
    from engine.messages import Frame
    from engine.perception.crowd import build_perceiver

    photo = np.ascontiguousarray(skimage.data.astronaut())  # 512×512, a face ~0.5 m from the lens
    frame = Frame(photo, 0.0, 0, "still:astronaut")
    perception = {"static_images": True, "presence_on_frames": 1}
    got = {}
    for name, overrides in {
        "none": {"perception": perception},
        "lens": {"perception": perception, "run": {"calibration": str(_room(tmp_path, (512, 512), 500.0))}},
        "lens, not straightened": {
            "perception": {**perception, "undistort": False},
            "run": {"calibration": str(tmp_path)},
        },
    }.items():
        stage = build_perceiver(load_config(None, overrides))
        try:
            assert isinstance(stage, Undistorted) == (name == "lens")
            got[name] = stage.process(frame).features
        finally:
            stage.close()
    print({k: round(v["distance_m"], 3) for k, v in got.items()})
    assert got["none"]["presence"] == 1.0 and got["none"]["distance_m"] == 0.0
    assert 0.2 < got["lens"]["distance_m"] < 1.5
    assert got["lens, not straightened"]["distance_m"] == pytest.approx(got["lens"]["distance_m"], rel=0.15)
    assert got["lens"]["distance"] == pytest.approx(got["none"]["distance"], abs=0.1)  # the 0..1 one stays

"""The screen step: camera↔screen homography (manual corners or projected ArUco markers), the mirror
flag, the editor's state machine, and perception mapped into screen space.

Marker photos are rendered: the projector-side board (calibration.markers.make_board) warped by a
known homography into a camera view over a real photograph (scikit-image's coffee), lit like a
projection on a wall, blurred and given sensor noise; the solve must recover the homography to
within a pixel everywhere on the screen.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from calibration import markers
from calibration.__main__ import main
from calibration.files import CalibrationError, load, path_for
from calibration.room import load_room
from calibration.screen import (
    UNIT_SQUARE,
    ScreenCalibration,
    apply_homography,
    body,
    save_screen,
    validate,
)
from calibration.screen_ui import CornerEditor, Drag, Key, Press, Release, View
from engine.messages import Frame, Viewer
from engine.perception.features import neutral_features
from engine.perception.screen_space import ScreenMapping, unmirror_skeleton
from engine.render.upscale import cover_scale
from tests.calibration.boards import background

SCREEN = (1280, 720)
CAMERA = (960, 720)
# Where the screen's corners (pixel edges) land in the camera picture, two rooms: near-frontal, oblique.
VIEWS = {
    "frontal": [[170, 140], [800, 95], [845, 560], [120, 590]],
    "oblique": [[300, 60], [905, 190], [890, 520], [330, 690]],
}
TRUE_CORNERS = np.array(VIEWS["frontal"], np.float64) / CAMERA  # normalised, for the manual tests


def screen_to_camera(view: str) -> np.ndarray:
    """The known homography, screen pixels (centre convention) → camera pixels."""
    w, h = SCREEN
    scr = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]], np.float32)
    return cv2.getPerspectiveTransform(scr, np.array(VIEWS[view], np.float32)).astype(np.float64)


def render_projection(H: np.ndarray, seed: int = 0) -> np.ndarray:  # noqa: N803
    """The board as a camera sees it projected on a wall: mostly projector light, some room showing
    through, a slightly soft lens (Gaussian σ 0.8 px) and sensor noise (σ 3 levels); RGB uint8."""
    board = markers.make_board(SCREEN)
    room = cv2.cvtColor(background(CAMERA), cv2.COLOR_GRAY2RGB).astype(np.float32)
    lit = cv2.warpPerspective(board.image.astype(np.float32), H, CAMERA, flags=cv2.INTER_LINEAR)
    cover = cv2.warpPerspective(np.ones(board.image.shape, np.float32), H, CAMERA)[..., None]
    image = room * (1 - cover) + cover * (0.2 * room + 0.8 * lit[..., None])
    image = cv2.GaussianBlur(image, (0, 0), 0.8)
    image += np.random.default_rng(seed).normal(0.0, 3.0, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def write_screen(room: Path, corners: np.ndarray = TRUE_CORNERS, mirrored: bool = False) -> Path:
    return save_screen(room, body(corners, CAMERA, SCREEN, mirrored))


# ------------------------------------------------------------------------------------- markers
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_markers_recover_the_homography_within_a_pixel(view: str) -> None:
    H_true = screen_to_camera(view)  # noqa: N806
    photo = render_projection(H_true)
    fit = markers.fit(photo, markers.make_board(SCREEN))
    # everywhere on the screen (a 17×9 grid over its pixels), recovered vs known, in screen pixels
    grid = np.stack(np.meshgrid(np.linspace(0, SCREEN[0] - 1, 17), np.linspace(0, SCREEN[1] - 1, 9)), -1)
    grid = grid.reshape(-1, 2)
    err = np.linalg.norm(apply_homography(fit.homography_px, apply_homography(H_true, grid)) - grid, axis=1)
    print(
        f"\n{view}: {fit.found} markers, {fit.used} corners; residual {fit.residual_px:.3f} px RMS "
        f"(worst {fit.worst_px:.3f}); true error max {err.max():.3f} px, mean {err.mean():.3f} px"
    )
    assert fit.found == 32 and fit.used >= 120
    assert fit.residual_px <= 1.0
    assert err.max() <= 1.0


def test_from_image_writes_a_screen_json_whose_corners_are_the_true_ones(tmp_path: Path) -> None:
    photo = tmp_path / "projection.png"
    cv2.imwrite(str(photo), cv2.cvtColor(render_projection(screen_to_camera("oblique")), cv2.COLOR_RGB2BGR))
    assert main(["screen", "--from-image", str(photo), "--screen", "1280x720", "--room", str(tmp_path)]) == 0
    cal = load(tmp_path, "screen", validate)
    assert cal.method == "markers" and cal.residual_px <= 1.0 and cal.image_size == CAMERA
    corners_px = np.array(cal.corners) * CAMERA
    assert np.abs(corners_px - np.array(VIEWS["oblique"])).max() <= 1.0


def test_a_mirrored_camera_photo_gives_the_same_homography(tmp_path: Path) -> None:
    photo = render_projection(screen_to_camera("frontal"))
    plain = markers.calibrate(photo, SCREEN, camera_mirrored=False)
    mirrored = markers.calibrate(np.ascontiguousarray(photo[:, ::-1]), SCREEN, camera_mirrored=True)
    assert mirrored["camera_mirrored"] is True
    assert np.allclose(plain["corners"], mirrored["corners"], atol=1e-3)


def test_a_photo_without_markers_is_one_line_and_keeps_the_old_file(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    good = write_screen(tmp_path).read_bytes()
    photo = tmp_path / "wall.png"
    cv2.imwrite(str(photo), background(CAMERA))
    assert main(["screen", "--from-image", str(photo), "--room", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "found 0 of the 32 projected markers" in err
    assert path_for(tmp_path, "screen").read_bytes() == good


def test_write_markers_gives_a_board_the_detector_reads_whole(tmp_path: Path) -> None:
    out = tmp_path / "board.png"
    assert (
        main(["screen", "--write-markers", str(out), "--screen", "1920x1080", "--room", str(tmp_path)]) == 0
    )
    found = markers.detect(cv2.imread(str(out), cv2.IMREAD_GRAYSCALE))
    board = markers.make_board((1920, 1080))
    assert sorted(found) == sorted(board.corners)
    assert max(np.abs(found[i] - board.corners[i]).max() for i in found) < 0.2


# ------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("corners", "says"),
    [
        ("0.1,0.1 0.5,0.5 0.9,0.9 0.1,0.9", "three of them lie (nearly) on one line"),
        ("0.1,0.1 0.9,0.9 0.9,0.1 0.1,0.9", "not form a convex quad"),
        ("0.9,0.1 0.1,0.1 0.1,0.9 0.9,0.9", "counter-clockwise"),
    ],
)
def test_degenerate_corners_are_one_line_exit_2_and_nothing_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture, corners: str, says: str
) -> None:
    good = write_screen(tmp_path).read_bytes()
    assert main(["screen", "--corners", corners, "--room", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and says in err and "corners" in err
    assert path_for(tmp_path, "screen").read_bytes() == good


def test_hand_edited_files_are_named(tmp_path: Path) -> None:
    path = write_screen(tmp_path)
    data = json.loads(path.read_text())
    bad = dict(data, corners=[[0.1, 0.1], [0.5, 0.5], [0.9, 0.9], [0.1, 0.9]])
    with pytest.raises(CalibrationError, match=r"screen\.json: corners are degenerate"):
        validate(bad, str(path))
    with pytest.raises(CalibrationError, match="homography does not take the corners"):
        validate(dict(data, corners=[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]), str(path))
    flat = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1e-9, 1e-9, 1e-12]]
    with pytest.raises(CalibrationError, match="singular"):
        validate(dict(data, homography=flat), str(path))
    with pytest.raises(CalibrationError, match="camera_mirrored must be true or false"):
        validate(dict(data, camera_mirrored="yes"), str(path))


def test_the_room_loads_screen_json(tmp_path: Path) -> None:
    write_screen(tmp_path, mirrored=True)
    room = load_room(tmp_path)
    assert isinstance(room.screen, ScreenCalibration) and room.screen.camera_mirrored
    assert np.allclose(room.screen.to_screen(np.array(room.screen.corners)), UNIT_SQUARE, atol=1e-12)
    assert np.allclose(room.screen.corners, TRUE_CORNERS, atol=1e-6)  # stored to 1e-6 of the picture


# ------------------------------------------------------------------------- screen-space mapping
def calibration(corners: np.ndarray = TRUE_CORNERS, mirrored: bool = False) -> ScreenCalibration:
    return validate({"step": "screen", **body(corners, CAMERA, SCREEN, mirrored)}, "screen.json")


def test_mask_skeleton_and_position_land_where_the_homography_says() -> None:
    cal = calibration()
    mapping = ScreenMapping(cal)
    mh, mw = 192, 256  # the perceiver's mask: 256 wide at the camera's 4:3
    p = np.array([0.42, 0.37])  # a point inside the screen's quad, camera-normalised
    mask = np.zeros((mh, mw), np.float32)
    cv2.circle(mask, (round(p[0] * mw - 0.5), round(p[1] * mh - 0.5)), 3, 1.0, -1)
    skeleton = np.zeros((33, 3), np.float32)
    skeleton[0] = (*p, 1.0)
    features = neutral_features() | {"presence": 1.0, "x": 2 * p[0] - 1, "y": 2 * p[1] - 1}
    out = mapping(Viewer(features, 0.0, 0, mask, skeleton))
    s = cal.to_screen(p[None])[0]
    assert out.mask.shape == (144, 256)  # the screen's 16:9 at the mask's width...
    assert cover_scale((256, 144), SCREEN) == pytest.approx((1.0, 1.0), abs=0.01)  # ...drawn unscaled
    ys, xs = np.nonzero(out.mask > 0.5)
    w = out.mask[ys, xs]
    centroid = np.array([(xs * w).sum() / w.sum() + 0.5, (ys * w).sum() / w.sum() + 0.5])
    # the warped blob is stretched unevenly by the perspective: its centroid within one mask pixel
    assert np.abs(centroid - s * (256, 144)).max() <= 1.0
    assert out.skeleton[0, :2] == pytest.approx(s, abs=1e-6)
    assert (out.features["x"], out.features["y"]) == pytest.approx(tuple(2 * s - 1), abs=1e-9)
    # the screen's corners map to the mask's corners
    assert np.allclose(cal.to_screen(np.array(cal.corners)), UNIT_SQUARE, atol=1e-12)


def test_nobody_there_keeps_position_neutral() -> None:
    out = ScreenMapping(calibration())(Viewer(neutral_features(), 0.0, 0))
    assert out.features["x"] == 0.0 and out.features["y"] == 0.0


def test_mirror_flag_swaps_left_and_right() -> None:
    full = calibration(UNIT_SQUARE, mirrored=True)  # no homography: only the un-mirroring
    features = neutral_features() | {
        "presence": 1.0,
        "x": 0.4,
        "head_yaw": 0.3,
        "head_roll": -0.2,
        "lean": 0.1,
        "left_hand_height": 0.9,
        "right_hand_height": 0.1,
        "smile": 0.7,
    }
    skeleton = np.zeros((33, 3), np.float32)
    skeleton[15] = (0.8, 0.5, 1.0)  # labelled the left wrist, at the picture's right
    mask = np.zeros((48, 64), np.float32)
    mask[:, :8] = 1.0
    out = ScreenMapping(full)(Viewer(features, 0.0, 0, mask, skeleton))
    f = out.features
    assert f["x"] == pytest.approx(-0.4) and f["head_yaw"] == pytest.approx(-0.3)
    assert f["head_roll"] == pytest.approx(0.2) and f["lean"] == pytest.approx(-0.1)
    assert (f["left_hand_height"], f["right_hand_height"]) == (0.1, 0.9) and f["smile"] == 0.7
    assert out.skeleton[16, 0] == pytest.approx(0.2) and out.skeleton[15, 2] == 0.0
    assert out.mask[:, -8:].min() > 0.99 and out.mask[:, :-9].max() < 0.01
    assert unmirror_skeleton(unmirror_skeleton(skeleton)) == pytest.approx(skeleton)


def test_a_mirrored_camera_reads_as_the_true_one_on_a_real_photo(tmp_path: Path) -> None:
    """The astronaut portrait as an un-mirrored camera sees it, and mirrored as a mirroring webcam
    delivers it: with camera_mirrored declared, perception built by build_perceiver from the room
    reports the same person (x, yaw, roll, shoulders, mask)."""
    from engine.config import load_config
    from engine.perception.crowd import build_perceiver
    from engine.perception.screen_space import InScreenSpace
    from tests.perception import photos

    corners = "0,0 1,0 1,1 0,1"  # the whole picture (square, so masks compare): only the un-mirroring
    room = ["--room", str(tmp_path), "--screen", "512x512", "--image-size", "512x512"]
    assert main(["screen", "--corners", corners, "--camera-mirrored", *room]) == 0
    perception = {"static_images": True, "presence_on_frames": 1, "presence_off_frames": 2}
    cfg = load_config(None, {"run": {"calibration": str(tmp_path)}, "perception": perception})
    perceiver = build_perceiver(cfg)
    try:
        assert isinstance(perceiver, InScreenSpace)
        tilted = photos.rotated(photos.astronaut(), -12)
        true = perceiver.inner.process(Frame(tilted, 0.0, 1, "test"))
        perceiver.reset()
        webcam = perceiver.process(Frame(photos.mirrored(tilted), 1.0, 2, "test"))
    finally:
        perceiver.close()
    a, b = true.features, webcam.features
    assert a["head_roll"] > 0.2 and b["head_roll"] == pytest.approx(a["head_roll"], abs=0.06)
    assert b["x"] == pytest.approx(a["x"], abs=0.05) and b["head_yaw"] == pytest.approx(
        a["head_yaw"], abs=0.1
    )
    assert true.skeleton is not None and webcam.skeleton is not None
    for i, other in ((11, 12), (12, 11)):  # her left and right shoulder, each where it truly is
        # (MediaPipe is not exactly mirror-symmetric: ~0.04 apart; the other shoulder is ~0.3 away)
        assert webcam.skeleton[i, :2] == pytest.approx(true.skeleton[i, :2], abs=0.05)
        assert np.abs(webcam.skeleton[i, :2] - true.skeleton[other, :2]).max() > 0.2
    inter = np.minimum(true.mask, webcam.mask).sum()
    assert inter / np.maximum(true.mask, webcam.mask).sum() > 0.9


# ------------------------------------------------------------------------------------- the editor
def editor(**kw) -> CornerEditor:
    return CornerEditor(CAMERA, SCREEN, TRUE_CORNERS, **kw)


def test_tab_cycles_and_arrows_nudge_one_or_ten_camera_pixels() -> None:
    e = editor(view_mirrored=False)
    e.handle(Key("tab"))
    assert e.selected == 1
    e.handle(Key("tab", shift=True))
    e.handle(Key("tab", shift=True))
    assert e.selected == 3
    before = e.corners[3] * CAMERA
    e.handle(Key("right"))
    e.handle(Key("up", shift=True))
    assert e.corners[3] * CAMERA == pytest.approx(before + (1, -10))


def test_arrows_follow_the_mirrored_view() -> None:
    e = editor(view_mirrored=True)
    before = e.corners[0] * CAMERA
    e.handle(Key("right", shift=True))  # right on screen: left in the camera's own picture
    assert e.corners[0] * CAMERA == pytest.approx(before + (-10, 0))


def test_mouse_grabs_the_nearest_corner_and_drags_it() -> None:
    e = editor()
    c2 = e.corners[2].copy()
    e.handle(Press(*(c2 + (0.01, -0.01))))
    assert e.selected == 2
    e.handle(Drag(0.6, 0.7))
    e.handle(Release())
    assert e.corners[2] == pytest.approx((0.59, 0.71))
    e.handle(Drag(0.1, 0.1))  # released: moving the mouse moves nothing
    e.handle(Press(0.5, 0.5))  # far from every corner: nothing grabbed
    e.handle(Drag(0.2, 0.2))
    assert e.selected == 2 and e.corners[2] == pytest.approx((0.59, 0.71))


def test_view_maps_window_pixels_to_the_camera_and_back() -> None:
    view = View(CAMERA, (1280, 720), mirrored=True)
    assert view.rect == (160.0, 0.0, 960.0, 720.0)
    pts = np.array([[0.25, 0.5], [0.9, 0.1]])
    win = view.to_window(pts)
    assert win[0] == pytest.approx((160 + 0.75 * 960, 360))
    assert [view.to_camera(*p) for p in win] == [pytest.approx(tuple(p)) for p in pts]


def test_s_saves_a_valid_file(tmp_path: Path) -> None:
    e = editor(on_save=lambda content: save_screen(tmp_path, content))
    e.handle(Key("right"))
    e.handle(Key("s"))
    assert e.state == "saved" and e.saved == path_for(tmp_path, "screen")
    cal = load(tmp_path, "screen", validate)
    assert np.array(cal.corners) == pytest.approx(e.corners, abs=1e-6)
    e.handle(Key("right"))  # after saving, nothing more changes
    assert np.array(cal.corners) == pytest.approx(e.corners, abs=1e-6)


def test_s_on_degenerate_corners_shows_why_and_writes_nothing(tmp_path: Path) -> None:
    good = write_screen(tmp_path).read_bytes()
    e = editor(on_save=lambda content: save_screen(tmp_path, content))
    e.handle(Press(*e.corners[1]))
    e.handle(Drag(*((e.corners[0] + e.corners[2]) / 2)))  # TR onto the TL–BR diagonal
    e.handle(Release())
    e.handle(Key("s"))
    assert e.state == "editing" and "not saved" in e.message and "one line" in e.message
    assert path_for(tmp_path, "screen").read_bytes() == good


def test_r_resets_to_the_whole_picture_and_esc_leaves_without_saving() -> None:
    calls: list[dict] = []
    e = editor(on_save=calls.append)
    e.handle(Key("tab"))
    e.handle(Key("r"))
    assert np.array_equal(e.corners, UNIT_SQUARE) and e.selected == 0
    e.handle(Key("escape"))
    e.handle(Key("s"))
    assert e.state == "left" and calls == []


def test_m_declares_a_mirroring_camera_and_keeps_the_handles_on_the_room() -> None:
    e = editor()
    e.handle(Key("m"))
    assert e.camera_mirrored and e.selected == 1  # the same handle, now the true top-right
    # each handle sits over the same raw-picture spot: flipped in the true picture, order kept
    assert e.corners[0] == pytest.approx((1 - TRUE_CORNERS[1, 0], TRUE_CORNERS[1, 1]))
    assert e.content()["camera_mirrored"] is True
    e.handle(Key("m"))
    assert not e.camera_mirrored and e.corners == pytest.approx(TRUE_CORNERS)


# ------------------------------------------------------------------------------------ the overlay
def test_overlay_draws_the_mirrored_picture_and_the_handles_where_the_view_says(tmp_path: Path) -> None:
    from calibration.screen_overlay import EXAMPLE_CORNERS, SELECTED_RGBA, screenshot

    size = (1280, 720)
    picture = cv2.resize(cv2.cvtColor(background(CAMERA), cv2.COLOR_GRAY2RGB), CAMERA)
    rgb = screenshot(tmp_path / "screen.png", size, picture)
    assert (tmp_path / "screen.png").is_file() and rgb.shape == (720, 1280, 3)
    view = View(CAMERA, size, mirrored=True)
    selected = view.to_window(EXAMPLE_CORNERS[1:2])[0]  # the screenshot selects the second corner
    x, y = (int(v) for v in selected)
    assert rgb[y, x] == pytest.approx(np.array(SELECTED_RGBA[:3]) * 255, abs=2)
    # the picture's rectangle holds the camera picture flipped like a mirror (lines and text aside)
    shown = rgb[:, 160:1120].astype(np.float32)
    flipped = np.abs(shown - picture[:, ::-1]).mean(axis=2)
    straight = np.abs(shown - picture).mean(axis=2)
    assert np.median(flipped) < 2.0 and np.median(straight) > 10 * max(np.median(flipped), 1.0)

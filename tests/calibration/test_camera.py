"""The camera step: intrinsics recovered from boards rendered through a known lens, the bad-input
rules, the straightening remap, and distance in metres."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from calibration.__main__ import main
from calibration.camera import CameraCalibration, validate
from calibration.camera_views import Board, View, difference, edge_width, find_board, select
from calibration.files import CalibrationError, load
from calibration.undistort import Undistort
from engine.perception.features import FACE_WIDTH_M, clamp_features, distance_m, face_features
from tests.calibration.boards import background, pose_at, render

SIZE = (1280, 720)
K_TRUE = np.array([[900.0, 0.0, 652.0], [0.0, 905.0, 361.0], [0.0, 0.0, 1.0]])
DIST_TRUE = np.array([-0.25, 0.08, 0.0008, -0.0005, -0.01])  # a wide lens's barrel distortion
BOARD = (9, 6)
SQUARE = 0.025
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")  # Debian opencv-doc: real board photos


def write_views(folder: Path, n: int, seed: int = 1, extra: bool = False) -> list[Path]:
    """n board photos (JPEG, blur σ 0.3–1.0 px, noise σ 1.5–3.5 grey levels) through K_TRUE/DIST_TRUE;
    `extra` adds one photo blurred with σ 4 px and one retake of the first view's pose."""
    rng = np.random.default_rng(seed)
    back = background(SIZE)
    folder.mkdir(parents=True, exist_ok=True)
    paths, poses = [], []
    for i in range(n):
        pose = pose_at(K_TRUE, DIST_TRUE, BOARD, SQUARE, SIZE, rng)
        poses.append(pose)
        img = render(
            K_TRUE,
            DIST_TRUE,
            *pose,
            BOARD,
            SQUARE,
            SIZE,
            rng,
            rng.uniform(0.3, 1.0),
            rng.uniform(1.5, 3.5),
            back,
        )
        paths.append(folder / f"view{i:02d}.jpg")
        cv2.imwrite(str(paths[-1]), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
    if extra:
        blurred = render(K_TRUE, DIST_TRUE, *poses[1], BOARD, SQUARE, SIZE, rng, 4.0, 2.0, back)
        retake = render(K_TRUE, DIST_TRUE, *poses[0], BOARD, SQUARE, SIZE, rng, 0.5, 2.0, back)
        for name, img in (("view90_blurred.jpg", blurred), ("view91_retake.jpg", retake)):
            paths.append(folder / name)
            cv2.imwrite(str(paths[-1]), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return paths


def run(images: str, room: Path) -> int:
    return main(
        ["camera", "--images", images, "--board", "9x6", "--square", str(SQUARE), "--room", str(room)]
    )


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("boards")
    write_views(folder, 14, extra=True)
    return folder


def test_recovers_known_intrinsics(synthetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run(f"{synthetic}/*.jpg", tmp_path) == 0
    out = capsys.readouterr().out
    cal = load(tmp_path, "camera", validate)
    K = np.array(cal.K)
    got = {"fx": K[0, 0], "fy": K[1, 1], "cx": K[0, 2], "cy": K[1, 2]}
    want = {"fx": 900.0, "fy": 905.0, "cx": 652.0, "cy": 361.0}
    print({k: round(v, 2) for k, v in got.items()}, f"rms {cal.rms:.3f} px")
    for key in want:
        assert got[key] == pytest.approx(want[key], rel=0.01), key
    assert cal.rms < 0.5
    assert cal.image_size == SIZE and len(cal.dist) == 5
    assert cal.dist[0] == pytest.approx(DIST_TRUE[0], abs=0.02)
    # the blurred photo and the retake of view00 are named and left out
    assert "view90_blurred.jpg: skipped, blurred" in out
    assert "view91_retake.jpg: skipped, a near-duplicate of view00.jpg" in out
    data = json.loads((tmp_path / "camera.json").read_text())
    assert len(data["view_errors_px"]) == 14 and "worst views: " in out
    assert data["format"] == 1 and data["made_by"].startswith("python -m calibration camera")


@pytest.mark.skipif(not (OPENCV_DATA / "left01.jpg").is_file(), reason="apt-get install opencv-doc")
def test_real_photos_match_opencvs_own_calibration(tmp_path: Path) -> None:
    """OpenCV's sample board photos (640×480, 9x6, 25 mm): its own tutorial found f = 535.9 px."""
    assert run(f"{OPENCV_DATA}/left[01]*.jpg", tmp_path) == 0
    cal = load(tmp_path, "camera", validate)
    assert cal.K[0][0] == pytest.approx(535.9, rel=0.01) and cal.K[1][1] == pytest.approx(535.9, rel=0.01)
    assert cal.K[0][2] == pytest.approx(342.3, abs=5) and cal.K[1][2] == pytest.approx(235.6, abs=5)
    assert cal.rms < 0.5


def test_too_few_views_is_one_line_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_views(tmp_path / "photos", 4, seed=2)
    assert run(f"{tmp_path}/photos/*.jpg", tmp_path / "room") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "only 4 usable view(s)" in err[0] and "at least 5" in err[0]
    assert not (tmp_path / "room" / "camera.json").exists()


def test_a_failed_run_keeps_the_old_file(
    synthetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert run(f"{synthetic}/view0*.jpg", tmp_path) == 0
    before = (tmp_path / "camera.json").read_bytes()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    capsys.readouterr()
    assert run(f"{tmp_path}/bad/*.jpg", tmp_path) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "a.jpg: unreadable image" in err[0]
    assert (tmp_path / "camera.json").read_bytes() == before


def test_board_not_found_in_any_photo(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "photos").mkdir()
    for i, name in enumerate(("coffee.png", "astronaut.png", "chelsea.png")):
        cv2.imwrite(str(tmp_path / "photos" / f"p{i}.jpg"), background((640, 480), name))
    assert run(f"{tmp_path}/photos/*.jpg", tmp_path / "room") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no 9x6 board found in any of the 3 photos" in err[0]
    assert main(["camera", "--images", f"{tmp_path}/none/*.jpg", "--room", str(tmp_path)]) == 2
    assert "no file matches" in capsys.readouterr().err


def test_blur_and_duplicates_are_judged_on_the_board() -> None:
    rng = np.random.default_rng(5)
    board = Board(*BOARD, SQUARE)
    pose = pose_at(K_TRUE, DIST_TRUE, BOARD, SQUARE, SIZE, rng)
    widths = []
    for sigma in (0.5, 1.0, 4.0):
        img = render(K_TRUE, DIST_TRUE, *pose, BOARD, SQUARE, SIZE, rng, sigma, 2.0)
        corners = find_board(img, board)
        assert corners is not None
        widths.append(edge_width(img, board, corners))
    assert widths[0] < widths[1] < 5.0 < widths[2]
    # the same board found in reverse order (turned half round) is still the same view
    assert difference(corners, corners[::-1]) == 0.0
    views = [View("a", corners, 2.0), View("b", corners[::-1] + 1.0, 2.0), View("c", corners + 200, 7.0)]
    kept, rejected = select(views, SIZE)
    assert [v.name for v in kept] == ["a"]
    assert rejected[0] == ("b", "a near-duplicate of a") and rejected[1][1].startswith("blurred")


# ------------------------------------------------------------------ camera.json's validation
GOOD = {"camera_matrix": [[900, 0, 640], [0, 900, 360], [0, 0, 1]], "dist_coeffs": [0.1, 0, 0, 0, 0]}
GOOD |= {"image_size": [1280, 720], "rms_px": 0.3}


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"camera_matrix": [[0, 0, 640], [0, 900, 360], [0, 0, 1]]}, "focal lengths must be above 0"),
        ({"camera_matrix": [[900, 0, 640], [0, 900, 360]]}, "camera_matrix must be a 3×3"),
        (
            {"camera_matrix": [[900, 0, 640], [0, 900, 360], [0, 1, 1]]},
            "[[fx, s, cx], [0, fy, cy], [0, 0, 1]]",
        ),
        ({"camera_matrix": [[900, 0, 2000], [0, 900, 360], [0, 0, 1]]}, "lies outside image_size"),
        ({"dist_coeffs": [0.1, 0.2, 0.3]}, "dist_coeffs must be a list of 4, 5, 8"),
        ({"dist_coeffs": [0.1, None, 0, 0, 0]}, "dist_coeffs must be"),
        ({"image_size": [1280]}, "image_size must be [width, height]"),
        ({"image_size": [1280.5, 720]}, "image_size must be [width, height]"),
        ({"rms_px": -1}, "rms_px = -1 is outside"),
    ],
)
def test_validate_names_the_key(change: dict, needle: str) -> None:
    with pytest.raises(CalibrationError) as e:
        validate({**GOOD, **change}, "room/camera.json")
    assert str(e.value).startswith("room/camera.json: ") and needle in str(e.value)


def test_validate_gives_a_frozen_record() -> None:
    cal = validate(dict(GOOD), "camera.json")
    assert isinstance(cal, CameraCalibration) and cal.image_size == (1280, 720) and cal.rms == 0.3
    with pytest.raises(AttributeError):
        cal.rms = 1.0  # type: ignore[misc]
    # a camera delivering half the calibrated mode: focal and centre halve
    assert cal.focal_px((640, 360)) == pytest.approx(450.0)
    assert cal.matrix_for((640, 360))[0, 2] == pytest.approx(319.75)


# ------------------------------------------------------------------ the remap
def _line_centres(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intensity-weighted row of a bright line in each column that holds it."""
    img = image.astype(np.float64)
    cols = np.nonzero(img.sum(axis=0) > 200)[0]
    rows = np.arange(img.shape[0])[:, None]
    return cols.astype(np.float64), (img[:, cols] * rows).sum(axis=0) / img[:, cols].sum(axis=0)


def _straightness(xs: np.ndarray, ys: np.ndarray) -> float:
    """Largest distance (px) of the points from their least-squares straight line."""
    a, b = np.polyfit(xs, ys, 1)
    return float(np.abs(ys - (a * xs + b)).max() / np.hypot(a, 1.0))


@pytest.mark.parametrize("size", [SIZE, (640, 360)])
def test_a_straight_line_comes_out_straight(size: tuple[int, int]) -> None:
    """A straight edge in the room, 2 m away near the top of the picture, is bent by the known lens;
    the remap (built for this frame size from a calibration at 1280×720) straightens it."""
    cal = validate(
        {
            **GOOD,
            "camera_matrix": K_TRUE.tolist(),
            "dist_coeffs": DIST_TRUE.tolist(),
            "image_size": list(SIZE),
        },
        "camera.json",
    )
    K = cal.matrix_for(size)
    world = np.c_[np.linspace(-1.3, 1.3, 400), np.full(400, -0.6), np.full(400, 2.0)]
    bent, _ = cv2.projectPoints(world, np.zeros(3), np.zeros(3), K, DIST_TRUE)
    ss = 8  # draw at 8× and average down, an anti-aliased 1.5 px line
    hi = np.zeros((size[1] * ss, size[0] * ss), np.uint8)
    pts = np.round(((bent.reshape(-1, 2) + 0.5) * ss - 0.5) * 16).astype(np.int32)
    cv2.polylines(hi, [pts], False, 255, int(1.5 * ss), cv2.LINE_AA, 4)
    raw = cv2.resize(hi, size, interpolation=cv2.INTER_AREA)
    fixed = Undistort(cal).frame(raw)
    margin = size[0] // 10
    xs, ys = _line_centres(raw)
    keep = (xs > margin) & (xs < size[0] - margin)
    bend = _straightness(xs[keep], ys[keep])
    xs, ys = _line_centres(fixed)
    keep = (xs > margin) & (xs < size[0] - margin)
    straight = _straightness(xs[keep], ys[keep])
    print(f"{size}: raw line bends {bend:.1f} px, straightened {straight:.2f} px")
    assert bend > 0.02 * size[1]  # the lens bends it by tens of pixels
    assert straight < 0.5 * size[0] / SIZE[0] + 0.25
    # and points: the bent line's pixels land on a straight line
    flat = Undistort(cal).points(bent.reshape(-1, 2), size)
    assert _straightness(flat[:, 0], flat[:, 1]) < 0.01


def test_the_remap_is_built_once_per_frame_size() -> None:
    u = Undistort(validate(dict(GOOD), "camera.json"))
    a = u.maps((640, 360))
    assert u.maps((640, 360)) is a and u.maps((1280, 720)) is not a


# ------------------------------------------------------------------ distance in metres
def _face(width_px: float, size: tuple[int, int]) -> np.ndarray:
    """A 478-point face mesh, frontal, centred, cheeks `width_px` apart (the rest filled from a
    rough layout: only the cheek span matters for distance)."""
    w, h = size
    face = np.zeros((478, 3))
    face[:, 0], face[:, 1] = 0.5, 0.5
    half = width_px / 2 / w
    face[454, 0], face[234, 0] = 0.5 + half, 0.5 - half  # the face's left / right cheek
    face[263, 0], face[33, 0] = 0.5 + half * 0.6, 0.5 - half * 0.6  # outer eye corners
    face[[263, 33], 1] = 0.45
    face[10, 1], face[152, 1] = 0.5 - 1.2 * half * w / h, 0.5 + 1.2 * half * w / h  # forehead, chin
    return face


@pytest.mark.parametrize("z_m", [0.8, 2.5, 7.0])
def test_distance_m_from_a_known_face_width(z_m: float) -> None:
    cal = validate({**GOOD, "camera_matrix": K_TRUE.tolist(), "image_size": list(SIZE)}, "camera.json")
    for size in (SIZE, (640, 360)):
        f = cal.focal_px(size)
        width_px = f * FACE_WIDTH_M / z_m  # pinhole: a 0.15 m face at z_m metres
        feats = face_features(_face(width_px, size), *size, focal_px=f)
        assert feats["distance_m"] == pytest.approx(z_m, rel=1e-6)
    assert distance_m(100.0, 1000.0) == pytest.approx(1.5)
    # no intrinsics: no distance_m from the face, so the catalogue holds its neutral 0
    feats = face_features(_face(100.0, SIZE), *SIZE)
    assert "distance_m" not in feats and clamp_features(feats)["distance_m"] == 0.0
    assert 0.0 < clamp_features(feats)["distance"] <= 1.0  # the 0..1 feature stays

"""The zone step: who counts. A polygon in the camera image and a distance band, saved as zone.json.

    python -m calibration zone --source 0                 # draw it in the window over the camera
    python -m calibration zone --points "0.1,0.2 0.9,0.2 0.9,0.95 0.1,0.95" --distance 0.3 1

A gallery camera sees more than the piece should answer to: people queueing at the door, a guard
by the wall, a passer-by in the corridor. Only a person whose anchor (box centre, or feet: the
bottom of the box) lies inside the polygon and whose distance lies in the band may be the viewer;
everyone else is ignored, so presence stays 0 while nobody stands inside. The band is in the
`distance` feature's own units (0 ≈ 6 m .. 1 ≈ 40 cm, the HUD's "dist"), [farthest, nearest];
with camera.json it may also be given in metres, [near, far]. A person's distance is read from the
size of their box (the landmarks seen), the only measure every tracked person has; BOX_TO_FACE was
measured on the two test portraits and agrees with the face-based feature within ~0.08.
"""

from __future__ import annotations

import argparse
import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from calibration.files import CalibrationError, made_by, matrix, number, path_for, save
from engine.perception.features import FACE_WIDTH_M, _size_to_distance
from engine.perception.people import Box, Person

log = logging.getLogger(__name__)

STEP = "zone"
ANCHORS = ("centre", "feet")
BOX_TO_FACE = 0.35  # face width / √(box area) of the landmarks' box, on the astronaut and Grace Hopper
MIN_AREA = 1e-4  # of the image: a polygon smaller than this is points clicked on top of each other
ZONE_MAX_PEOPLE = 2  # poses tracked with a zone: a person outside must not take the only slot

Point = tuple[float, float]


@dataclass(frozen=True)
class Zone:
    """polygon: points normalised to the camera image (x right, y down), in drawing order.
    distance: [lo, hi] in `distance` feature units (lo the farthest allowed, hi the nearest).
    distance_m: [near, far] in metres, or None; needs camera.json's focal length.
    image_size: the camera image (w, h) the zone was drawn on, for box sizes in pixels."""

    polygon: tuple[Point, ...]
    anchor: str = "centre"
    distance: tuple[float, float] = (0.0, 1.0)
    distance_m: tuple[float, float] | None = None
    image_size: tuple[int, int] = (640, 480)

    def anchor_of(self, box: Box) -> Point:
        x0, y0, x1, y1 = box
        return ((x0 + x1) / 2, y1 if self.anchor == "feet" else (y0 + y1) / 2)

    def inside(self, point: Point) -> bool:
        """On the edge counts as inside: a person standing on the line is not flickered away."""
        contour = np.asarray(self.polygon, np.float32).reshape(-1, 1, 2)
        return cv2.pointPolygonTest(contour, (float(point[0]), float(point[1])), False) >= 0

    def box_distance(self, box: Box) -> float:
        """The person's closeness in `distance` feature units, from their box's size."""
        return _size_to_distance(BOX_TO_FACE * _box_px(box, self.image_size) / max(self.image_size))

    def box_metres(self, box: Box, focal_px: float) -> float:
        return focal_px * FACE_WIDTH_M / max(1e-6, BOX_TO_FACE * _box_px(box, self.image_size))

    def admits(self, box: Box, focal_px: float | None = None) -> bool:
        if not self.inside(self.anchor_of(box)):
            return False
        lo, hi = self.distance
        if not lo <= self.box_distance(box) <= hi:
            return False
        if self.distance_m is not None and focal_px is not None:
            near, far = self.distance_m
            return near <= self.box_metres(box, focal_px) <= far
        return True


def _box_px(box: Box, size: tuple[int, int]) -> float:
    x0, y0, x1, y1 = box
    return math.sqrt(max(0.0, x1 - x0) * size[0] * max(0.0, y1 - y0) * size[1])


# ------------------------------------------------------------------ geometry checks
def _cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))


def _segments_meet(p1: np.ndarray, p2: np.ndarray, q1: np.ndarray, q2: np.ndarray) -> bool:
    """Whether two closed segments share a point (crossing, touching or overlapping)."""
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and 0 not in (d1, d2, d3, d4):
        return True

    def on(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: float) -> bool:
        return (
            d == 0
            and min(a[0], b[0]) <= c[0] <= max(a[0], b[0])
            and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])
        )

    return on(q1, q2, p1, d1) or on(q1, q2, p2, d2) or on(p1, p2, q1, d3) or on(p1, p2, q2, d4)


def crossing(polygon: list[Point] | tuple[Point, ...]) -> tuple[int, int] | None:
    """The first pair of edges (by index, edge i runs from point i to i+1) that meet, or None.
    Adjacent edges share their common point only; any other contact makes the zone ambiguous."""
    p = np.asarray(polygon, np.float64)
    n = len(p)
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue
            if _segments_meet(p[i], p[(i + 1) % n], p[j], p[(j + 1) % n]):
                return i, j
    return None


def polygon_problem(polygon: list[Point] | tuple[Point, ...]) -> str | None:
    """Why these points are no zone (under 3, edges crossing, no area), or None when they are one."""
    n = len(polygon)
    if n < 3:
        return f"polygon has {n} point{'s' * (n != 1)}; a zone needs at least 3"
    hit = crossing(polygon)
    if hit is not None:
        i, j = hit
        return (
            f"polygon edges {i + 1}-{i % n + 2} and {j + 1}-{(j + 1) % n + 1} cross; "
            "place the points in order around the zone"
        )
    x, y = np.asarray(polygon, np.float64).T
    if 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) < MIN_AREA:
        return "polygon has no area (its points lie on one line or on top of each other)"
    return None


# ------------------------------------------------------------------ the file
def _pair(data: dict, key: str, where: str, lo: float, hi: float) -> tuple[float, float]:
    v = data.get(key)
    if not isinstance(v, list) or len(v) != 2:
        raise CalibrationError(f"{where}: {key} must be a list of two numbers, got {v!r}")
    a, b = (number({key: x}, key, where, lo, hi) for x in v)
    return a, b


def validate(data: dict, where: str) -> Zone:
    rows = matrix(data, "polygon", where, None, 2)
    if any(not (0.0 <= c <= 1.0) for r in rows for c in r):
        raise CalibrationError(f"{where}: polygon points must lie in 0..1 (fractions of the camera image)")
    problem = polygon_problem([(r[0], r[1]) for r in rows])
    if problem:
        raise CalibrationError(f"{where}: {problem}")
    anchor = data.get("anchor", "centre")
    if anchor not in ANCHORS:
        raise CalibrationError(f"{where}: anchor must be one of {', '.join(ANCHORS)}, got {anchor!r}")
    lo, hi = _pair(data, "distance", where, 0.0, 1.0)
    if lo > hi:
        raise CalibrationError(
            f"{where}: distance [{lo}, {hi}]: the farthest (lower value) exceeds the nearest (higher)"
        )
    metres = None
    if data.get("distance_m") is not None:
        near, far = _pair(data, "distance_m", where, 0.0, 100.0)
        if near > far:
            raise CalibrationError(f"{where}: distance_m: near {near} m is beyond far {far} m")
        metres = (near, far)
    w, h = _pair(data, "image_size", where, 1, 100000)
    return Zone(tuple((r[0], r[1]) for r in rows), anchor, (lo, hi), metres, (int(w), int(h)))


def body(zone: Zone) -> dict[str, Any]:
    return {
        "polygon": [[round(x, 5), round(y, 5)] for x, y in zone.polygon],
        "anchor": zone.anchor,
        "distance": list(zone.distance),
        "distance_m": None if zone.distance_m is None else list(zone.distance_m),
        "image_size": list(zone.image_size),
    }


def save_zone(room: Path, zone: Zone, argv: list[str] | None = None) -> Path:
    return save(room, STEP, made_by(argv), body(zone), validate)


# ------------------------------------------------------------------ the engine's side
def zone_filter(zone: Zone | None, camera: Any = None):
    """`allowed(person)` for the Perceiver, or None without a zone. A band in metres needs the lens."""
    if zone is None:
        return None
    focal = None
    if zone.distance_m is not None:
        if camera is None or not hasattr(camera, "focal_px"):
            raise CalibrationError(
                "zone.json: distance_m needs camera.json (the focal length); run `python -m calibration "
                "camera` first, or give the band in distance units only"
            )
        focal = float(camera.focal_px(zone.image_size))

    def allowed(person: Person) -> bool:
        return zone.admits(person.box, focal)

    return allowed


def zone_settings(settings: Any, zone: Zone | None) -> Any:
    """Perception settings for a zone: at least ZONE_MAX_PEOPLE poses, or one bigger person outside
    would hold MediaPipe's only pose and the visitor inside would never be seen."""
    if zone is None or settings.max_people >= ZONE_MAX_PEOPLE:
        return settings
    log.info("zone.json: tracking %d people (was max_people %d)", ZONE_MAX_PEOPLE, settings.max_people)
    return replace(settings, max_people=ZONE_MAX_PEOPLE)


# ------------------------------------------------------------------ the command
def parse_points(text: str) -> list[Point]:
    try:
        pts = [tuple(float(c) for c in p.split(",")) for p in text.split()]
    except ValueError:
        raise CalibrationError(f"--points '{text}': expected 'x,y x,y ...' with numbers in 0..1") from None
    if any(len(p) != 2 for p in pts):
        raise CalibrationError(f"--points '{text}': every point is x,y")
    return [(p[0], p[1]) for p in pts]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("zone", help="who counts: a polygon in the camera image and a distance band")
    p.add_argument("--source", default="0", help="camera index, video, image or 'demo' to draw over")
    p.add_argument("--points", help="'x,y x,y ...' in 0..1: save this polygon without a window")
    p.add_argument("--size", default="640x480", help="camera image WxH the points refer to (with --points)")
    p.add_argument("--anchor", choices=ANCHORS, default="centre", help="the point of a person tested")
    p.add_argument(
        "--distance",
        nargs=2,
        type=float,
        default=(0.0, 1.0),
        metavar=("FAR", "NEAR"),
        help="band in the distance feature's units (the HUD's dist: 0 ≈ 6 m, 1 ≈ 40 cm)",
    )
    p.add_argument("--distance-m", nargs=2, type=float, metavar=("NEAR", "FAR"), help="band in metres")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = {
        "anchor": args.anchor,
        "distance": list(args.distance),
        "distance_m": None if args.distance_m is None else list(args.distance_m),
    }
    if args.distance_m is not None and not path_for(args.room, "camera").exists():
        raise CalibrationError(
            f"{path_for(args.room, STEP)}: distance_m needs camera.json in {args.room} (the focal length); "
            "run `python -m calibration camera` first, or give --distance only"
        )
    if args.points is not None:
        w, _, h = args.size.partition("x")
        if not (w.isdigit() and h.isdigit()):
            raise CalibrationError(f"--size '{args.size}': expected WxH, e.g. 640x480")
        data = {"polygon": [list(p) for p in parse_points(args.points)], "image_size": [int(w), int(h)]}
        # the one line, before anything is written
        zone = validate({**data, **settings}, str(path_for(args.room, STEP)))
        print(f"saved {save_zone(args.room, zone)}")
        return 0
    from calibration.zone_ui import edit_live

    return edit_live(args.source, args.room, settings)

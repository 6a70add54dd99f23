"""Crowd perception: everyone in view of a fixed camera looking down a hall, people 3–15 m away.

Single-person pose finds nobody at that distance, so this stage reads the hall as a whole: moving
blobs from background subtraction, tracked with stable ids (engine.perception.crowd_blobs), plus
MediaPipe's full-range face detection (the model inside the mediapipe wheel, offline) for people
nearer the camera. A face inside a blob counts as a person in it (a group walking close together
is one blob but several faces); a face with no blob around it is someone standing still long
enough for the background to have learned them, and is tracked as a person of its own.

It runs beside the viewer's Perceiver on the perception thread: `CrowdPerceiver.attach` puts the
Crowd on the Viewer, so scenes read `inputs.viewer.crowd` and the OSC sender finds it there.

    python -m engine.perception.crowd --bench CLIP   # median ms per frame on a clip
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.config_meta import check_fields, rng
from engine.images import as_rgb
from engine.messages import Frame, Viewer
from engine.perception.crowd_blobs import Blob, BlobTracker, ForegroundBlobs
from engine.perception.crowd_types import EMPTY, Crowd, Person, summarise

# A face box to the body below it, for a face with no blob: people are ~7 heads tall, ~2.5 wide.
BODY_HEIGHT_IN_FACES = 7.0
BODY_WIDTH_IN_FACES = 2.5
CROWD_SCENES = frozenset({"crowd"})  # scenes that read Viewer.crowd


@dataclass(frozen=True, slots=True)
class CrowdSettings:
    """How crowd perception runs. Defaults measured on OpenCV's vtest.avi (PETS, 768×576, 10 fps).

    width: frames are downscaled to this width before subtraction (cost ∝ width²).
    history: MOG2's memory in frames; someone who stands still about this long becomes background.
    min_area: smallest blob that is a person, as a fraction of the frame (a far person ≈ 0.001).
    max_jump: farthest a person moves between two perceived frames, fraction of the frame width.
    confirm / grace: frames a blob must be seen before it counts / may go unseen before its id ends.
    always: run even when no configured scene reads the crowd (the start scene, the idle scene, the
      show), so that `crowd` can be selected live and /crowd/* goes out under every scene.
    """

    width: int = field(default=384, metadata=rng(64, 1920, "px"))
    history: int = field(default=500, metadata=rng(10, 100000, "frames"))
    var_threshold: float = field(default=25.0, metadata=rng(1.0, 400.0))
    min_area: float = field(default=0.0006, metadata=rng(0.0, 0.5))
    person_aspect: float = field(default=0.55, metadata=rng(0.1, 2.0, "width/height of one person"))
    max_jump: float = field(default=0.08, metadata=rng(0.001, 1.0))
    confirm: int = field(default=3, metadata=rng(1, 100, "frames"))
    grace: int = field(default=8, metadata=rng(0, 1000, "frames"))
    faces: bool = True  # MediaPipe full-range face detection for the people nearer
    face_every: int = field(default=3, metadata=rng(1, 100, "frames"))
    face_confidence: float = field(default=0.5, metadata=rng(0.0, 1.0))
    always: bool = False

    def validate(self) -> CrowdSettings:
        check_fields(self, "crowd")
        return self


@dataclass(frozen=True, slots=True)
class Face:
    x: float  # centre, 0..1
    y: float
    w: float
    h: float


def body_from_face(f: Face) -> Blob:
    """The blob a person would make below a face the subtraction no longer sees (standing still)."""
    h = min(1.0, f.h * BODY_HEIGHT_IN_FACES)
    w = min(1.0, f.w * BODY_WIDTH_IN_FACES)
    return Blob(f.x, min(1.0, f.y - f.h / 2 + h / 2), w, h, 0.5 * w * h)


class CrowdPerceiver:
    """Frames in, one Crowd per frame out. One instance per thread (MediaPipe graphs are not shared)."""

    def __init__(self, settings: CrowdSettings | None = None) -> None:
        self.settings = s = (settings or CrowdSettings()).validate()
        self.blobs = ForegroundBlobs(s.width, s.history, s.var_threshold, s.min_area, s.person_aspect)
        self.tracker = BlobTracker(s.max_jump, s.confirm, s.grace)
        self._detector: Any = None
        if s.faces:
            import mediapipe as mp  # heavy; only a stage that looks for faces pays for it

            # model_selection=1: the full-range model (faces up to ~5 m), shipped inside the wheel
            self._detector = mp.solutions.face_detection.FaceDetection(
                model_selection=1, min_detection_confidence=s.face_confidence
            )
        self._faces: list[Face] = []
        self._count = 0
        self._last: Crowd | None = None

    def reset(self) -> None:
        """Forget the room and everyone in it (a moved camera, a restarted source)."""
        self.blobs.reset()
        self.tracker.reset()
        self._faces = []
        self._count = 0
        self._last = None

    def process(self, frame: Frame) -> Crowd:
        """The crowd in `frame`; a repeated frame index gives the same crowd without its events."""
        if self._last is not None and frame.index == self._last.frame_index:
            return dataclasses.replace(self._last, entered=(), left=())
        image = as_rgb(frame.image)
        if image is None or min(image.shape[:2]) < 32:
            self._last = dataclasses.replace(EMPTY, capture_time=frame.capture_time, frame_index=frame.index)
            return self._last
        blobs = self.blobs(image)
        if self._detector is not None and self._count % self.settings.face_every == 0:
            self._faces = self._detect_faces(image)
        self._count += 1
        extra = [body_from_face(f) for f in self._faces if not any(b.contains(f.x, f.y, 0.1) for b in blobs)]
        t = frame.capture_time
        events = self.tracker.update(blobs + extra, t)
        people = []
        for tr in self.tracker.visible():
            b = tr.blob
            tr.faces = sum(b.contains(f.x, f.y, 0.1) for f in self._faces)
            people.append(Person(tr.id, b.x, b.y, b.w, b.h, b.size, tr.speed, tr.members))
        self._last = summarise(tuple(people), tuple(events.entered), tuple(events.left), t, frame.index)
        return self._last

    def attach(self, viewer: Viewer, frame: Frame) -> Viewer:
        """`viewer` with this frame's crowd on it: what the perception thread hands to the scene."""
        return dataclasses.replace(viewer, crowd=self.process(frame))

    def _detect_faces(self, image: np.ndarray) -> list[Face]:
        res = self._detector.process(image)
        out = []
        for d in res.detections or ():
            bb = d.location_data.relative_bounding_box
            out.append(Face(bb.xmin + bb.width / 2, bb.ymin + bb.height / 2, bb.width, bb.height))
        return out

    def close(self) -> None:
        if self._detector is not None:
            self._detector.close()
            self._detector = None

    def __enter__(self) -> CrowdPerceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WithCrowd:
    """A viewer Perceiver whose Viewers carry the crowd too: the same process / reset / close, so the
    perception thread (realtime or offline) runs both on each frame without knowing there are two."""

    def __init__(self, viewer: Any, crowd: CrowdPerceiver) -> None:
        self.viewer = viewer
        self.crowd = crowd

    def process(self, frame: Frame) -> Viewer:
        return self.crowd.attach(self.viewer.process(frame), frame)

    def reset(self) -> None:
        self.viewer.reset()
        self.crowd.reset()

    def close(self) -> None:
        try:
            self.viewer.close()
        finally:
            self.crowd.close()


def crowd_wanted(cfg: Any) -> bool:
    """Whether a run needs crowd perception: a scene that reads the crowd is the start scene, the
    idle scene or in the show. (Selecting `crowd` later over OSC finds an empty hall: the crowd
    costs ~2–4 ms a perceived frame, which a run that never shows it should not pay; `[crowd] always`
    pays it.)"""
    if getattr(getattr(cfg, "crowd", None), "always", False):
        return True
    run, scenes, show = getattr(cfg, "run", None), getattr(cfg, "scenes", None), getattr(cfg, "show", None)
    names = {getattr(run, "scene", ""), getattr(scenes, "idle", "")}
    names.update(getattr(e, "scene", "") for e in getattr(show, "entries", ()))
    return bool(names & CROWD_SCENES)


def build_perceiver(cfg: Any) -> Any:
    """The perception stage for a run: the viewer's Perceiver, with the crowd beside it if wanted;
    both see the lens-corrected frame where camera.json exists (calibration/undistort.py)."""
    from calibration.undistort import camera_of, with_camera
    from calibration.zone import zone_filter, zone_settings
    from engine.perception.screen_space import in_screen_space
    from engine.perception.tracker import Perceiver

    lens = camera_of(cfg)
    zone = getattr(getattr(cfg, "room", None), "zone", None)  # who counts (calibration/zone.py)
    viewer = Perceiver(
        zone_settings(cfg.perception, zone),
        allowed=zone_filter(zone, lens),
        focal_px=lens.focal_px if lens is not None else None,
    )
    # its Viewers in screen space where the room has a screen.json (engine/perception/screen_space.py)
    viewer = in_screen_space(viewer, getattr(getattr(cfg, "room", None), "screen", None))
    if not crowd_wanted(cfg):
        return with_camera(viewer, cfg)
    try:
        return with_camera(WithCrowd(viewer, CrowdPerceiver(getattr(cfg, "crowd", None))), cfg)
    except BaseException:
        viewer.close()
        raise


def read_clip(path: str, limit: int | None = None):
    """Frames of a video file as RGB `Frame`s on the clip's own clock (its fps)."""
    import cv2

    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise FileNotFoundError(f"crowd: cannot open clip '{path}'")
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    i = 0
    try:
        while limit is None or i < limit:
            ok, bgr = cap.read()
            if not ok:
                break
            yield Frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), i / fps, i, f"video:{path}")
            i += 1
    finally:
        cap.release()
    if i == 0:
        raise ValueError(f"crowd: clip '{path}' holds no frames")


def bench(path: str, faces: bool = True) -> dict[str, float]:
    """Median and p95 ms per frame of CrowdPerceiver.process over a whole clip, and the mean count."""
    ms: list[float] = []
    counts: list[int] = []
    with CrowdPerceiver(CrowdSettings(faces=faces)) as crowd:
        for frame in read_clip(path):
            t0 = time.perf_counter()
            c = crowd.process(frame)
            ms.append((time.perf_counter() - t0) * 1000)
            counts.append(c.count)
    ms_sorted = sorted(ms)
    return {
        "frames": len(ms),
        "median_ms": statistics.median(ms),
        "p95_ms": ms_sorted[int(0.95 * (len(ms) - 1))],
        "mean_count": statistics.fmean(counts),
        "max_count": max(counts),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engine.perception.crowd", description=__doc__.split("\n")[0])
    ap.add_argument("--bench", metavar="CLIP", required=True, help="a video of people walking")
    ap.add_argument("--no-faces", action="store_true", help="background subtraction and tracking only")
    a = ap.parse_args(argv)
    r = bench(a.bench, faces=not a.no_faces)
    print(
        f"crowd on {a.bench}: {r['frames']} frames, median {r['median_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms"
        f" per frame; count mean {r['mean_count']:.2f}, max {r['max_count']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

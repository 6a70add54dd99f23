"""The perception stage: camera frames in, one Viewer (named features) out.

MediaPipe's pose (up to max_people of them) and face mesh each run at their own
rate (pose_every, face_every). Of the people in view, one is the viewer: the
most prominent, chosen with hysteresis (viewer_select.py), and a change of
viewer glides the features over crossfade_s instead of jumping. While the
viewer's pose sees a head, the face mesh reads a crop around it: that is the
viewer's face, and it stays readable about twice as far
from the camera as on the whole frame. Between runs the last result is reused,
and a result that went missing is held for as long as presence hysteresis
would keep the viewer, so one dropped detection does not make the scene
twitch. Features are smoothed by One Euro filters driven by the frames'
capture times, never by the wall clock. One Perceiver per thread: MediaPipe
graphs are not shared, and MediaPipe releases the GIL while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from engine.images import as_rgb
from engine.messages import Frame, Viewer
from engine.perception.features import (
    EXPRESSION,
    FACTS,
    FEATURES,
    combine,
    face_features,
    motion_energy,
    pose_features,
)
from engine.perception.landmarks import (
    F_CHEEK_LEFT,
    F_CHEEK_RIGHT,
    F_NOSE_TIP,
    P_NOSE,
    VISIBLE,
    body_speed,
    face_to_frame,
    head_box,
)
from engine.perception.one_euro import OneEuroBank
from engine.perception.people import PeopleTracker, pose_box
from engine.perception.pose_model import MultiPose
from engine.perception.presence import PresenceGate
from engine.perception.settings import PerceptionSettings
from engine.perception.viewer_select import Allowed, FeatureCrossfade, ViewerSelector

__all__ = ["PerceptionSettings", "Perceiver", "PresenceGate"]

MIN_SIDE = 32  # frames smaller than this hold no detectable person; skip the models
# Velocity is taken over ~0.2 s rather than one frame: landmark jitter is mostly
# zero-mean, so over a longer baseline it averages out while real motion adds up.
MOTION_WINDOW = 0.2  # s
MAX_MOTION_GAP = 0.5  # s between two poses beyond which their difference is not a velocity
CLOCK_JUMP_BACK = 0.5  # s; capture time falling back this far means a new clock, not jitter


def _faces(result: Any) -> list[np.ndarray]:
    return [np.array([[p.x, p.y, p.z] for p in f.landmark]) for f in result.multi_face_landmarks or ()]


class Perceiver:
    """Runs MediaPipe on frames and turns the most prominent person into a Viewer.

    `allowed` limits who may be the viewer (e.g. a calibrated zone); see ViewerSelector.
    `focal_px(frame size)`: the calibrated focal length in px (calibration/camera.py), for distance_m.
    """

    def __init__(
        self,
        settings: PerceptionSettings | None = None,
        allowed: Allowed | None = None,
        focal_px: Callable[[tuple[int, int]], float] | None = None,
    ) -> None:
        import mediapipe as mp  # heavy; only the stage that perceives pays for it

        self.settings = s = (settings or PerceptionSettings()).validate()
        video = not s.static_images
        pose_seg = s.segmentation and s.segmentation_model == "pose"
        self._pose = MultiPose(
            complexity=s.pose_model_complexity,
            num_poses=s.max_people,
            video=video,
            segmentation=pose_seg,
            min_detection_confidence=s.min_detection_confidence,
            min_tracking_confidence=s.min_tracking_confidence,
        )
        self._selfie: Any = None
        if s.segmentation and s.segmentation_model == "selfie":
            self._selfie = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1)

        def face_mesh(max_faces: int) -> Any:
            return mp.solutions.face_mesh.FaceMesh(
                static_image_mode=not video,
                max_num_faces=max_faces,
                refine_landmarks=s.refine_face,
                min_detection_confidence=s.min_detection_confidence,
                min_tracking_confidence=s.min_tracking_confidence,
            )

        self._mesh: Any = face_mesh(s.max_faces) if s.face_mesh else None
        # A graph of its own for head crops: its tracking state lives in crop coordinates.
        self._head_mesh: Any = face_mesh(min(2, s.max_faces)) if s.face_mesh and s.face_from_pose else None
        self._lock = threading.Lock()
        self._closed = False
        self._filters = OneEuroBank(s.min_cutoff, s.beta, s.d_cutoff)
        self._gate = PresenceGate(s.presence_on_frames, s.presence_off_frames)
        # People are held as long as presence holds the viewer; counted in pose runs.
        self._people = PeopleTracker(forget_after=s.presence_off_frames)
        self._selector = ViewerSelector(s.switch_ratio, s.switch_after_s, allowed)
        self._crossfade = FeatureCrossfade(s.crossfade_s, keep=FACTS)
        self._focal = focal_px
        self._mp_time_us = 0
        self._clear()

    def reset(self) -> None:
        """Forget the viewer (filters, presence, held landmarks); MediaPipe's own tracking remains."""
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self._filters.reset()
        self._gate.reset()
        self._people.reset()
        self._selector.reset()
        self._crossfade.reset()
        self._viewer_changed = False
        self._count = 0
        self._pose_lm: np.ndarray | None = None  # latest detection, held through short misses
        self._pose_seen_at = -(10**9)
        self._face_lm: np.ndarray | None = None
        self._face_seen_at = -(10**9)
        self._pose_found = self._face_found = self._anyone = False
        self._inside = 0  # people tracked whom `allowed` admits (everyone without a zone)
        self._pose_history: list[tuple[float, np.ndarray]] = []  # recent detections, for velocity
        self._speed = 0.0
        self._mask: np.ndarray | None = None
        self._last: Viewer | None = None

    def process(self, frame: Frame) -> Viewer:
        """Perceive one frame. A repeated frame index returns the previous Viewer unchanged."""
        with self._lock:
            if self._closed:
                raise RuntimeError("Perceiver is closed")
            if self._last is not None and frame.index == self._last.frame_index:
                return self._last
            s, n, t = self.settings, self._count, frame.capture_time
            self._count += 1
            if self._last is not None and t < self._last.capture_time - CLOCK_JUMP_BACK:
                self._filters.reset()  # a restarted source clock: filters would freeze until it caught up
                self._crossfade.reset()
            image = as_rgb(frame.image)
            shape = np.shape(frame.image)
            h, w = (int(shape[0]), int(shape[1])) if len(shape) >= 2 else (0, 0)
            usable = image is not None and min(h, w) >= MIN_SIDE
            run_pose = n % s.pose_every == 0
            # Offset the face mesh by one frame when both skip frames, to spread the load.
            run_face = self._mesh is not None and (n + (s.pose_every > 1)) % s.face_every == 0
            if run_pose or run_face:
                self._advance_mediapipe_time(t)
            if run_pose:
                self._run_pose(image if usable else None, n, t, w, h)
            if run_face:
                self._run_face(image if usable else None, n, w, h)
            hold = s.presence_off_frames
            pose_lm = self._pose_lm if n - self._pose_seen_at <= hold else None
            face_lm = self._face_lm if n - self._face_seen_at <= hold else None
            was_present = self._gate.present
            present = self._gate.update(self._anyone or self._face_found)
            if present and not was_present:
                # Start from the newcomer's real values rather than gliding in from neutral,
                # which scenes would read as motion that never happened.
                self._filters.reset()
            elif present and self._viewer_changed and self._last is not None:
                # Another person took over: filter their values from scratch, and glide there
                # from what the scenes saw last, so the picture turns toward them smoothly.
                self._filters.reset()
                self._crossfade.start(self._last.features, t)
            self._viewer_changed = False
            focal = self._focal((w, h)) if self._focal is not None and min(w, h) > 0 else 0.0
            face = face_features(face_lm, w, h, focal)
            if not self._face_found and self._pose_found:
                # A held face only bridges the expression; where the viewer is and how the
                # head turns, the fresh pose tells better than a face from frames ago.
                face = {k: v for k, v in face.items() if k in EXPRESSION}
            raw = combine(face, pose_features(pose_lm, w, h, focal), motion_energy(self._speed), present)
            smooth = self._filters({k: v for k, v in raw.items() if k != "presence"}, t)
            features = {name: spec.clamp(smooth.get(name, raw[name])) for name, spec in FEATURES.items()}
            features["presence"] = 1.0 if present else 0.0
            viewer = self._selector.viewer if present else None
            features["count"] = FEATURES["count"].clamp(max(1, self._inside) if present else 0)
            features["viewer_id"] = float(viewer or 0) if present else 0.0
            if present:
                features = self._crossfade(features, t)
            else:
                self._crossfade.reset()
            self._last = Viewer(
                features=features,
                capture_time=t,
                frame_index=frame.index,
                mask=self._mask_for(w, h),
                skeleton=None if pose_lm is None else pose_lm[:, [0, 1, 3]].astype(np.float32),
            )
            return self._last

    def close(self) -> None:
        """Release the MediaPipe graphs; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._pose.close()
            for sol in (self._selfie, self._mesh, self._head_mesh):
                if sol is not None:
                    sol.close()

    def __enter__(self) -> Perceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _advance_mediapipe_time(self, t: float) -> None:
        """Make MediaPipe's internal smoothing see the real capture times.

        The solutions API stamps packets at a fake 30 fps (it adds 33 333 µs per
        call to a private counter); when perception runs slower, or skips frames,
        its landmark filters would lag. Setting the counter so the next stamp is
        the capture time keeps them honest. The stamp must rise strictly.
        """
        self._mp_time_us = max(self._mp_time_us + 1, int(round(t * 1e6)) + 1)
        for sol in (self._selfie, self._mesh, self._head_mesh):
            if sol is not None and hasattr(sol, "_simulated_timestamp"):
                sol._simulated_timestamp = self._mp_time_us - 33333

    def _run_pose(self, image: np.ndarray | None, n: int, t: float, w: int, h: int) -> None:
        lm, mask = None, None
        poses = self._pose.detect(image, t) if image is not None else []
        boxed = [(box, pose, m) for pose, m in poses if (box := pose_box(pose)) is not None]
        ids = self._people.update([b for b, _, _ in boxed], n)
        before = self._selector.viewer
        viewer = self._selector.update(self._people.people, t)
        if viewer != before:
            self._pose_history.clear()  # another body: its landmarks' difference is no velocity
            self._viewer_changed = before is not None and viewer is not None
        for pid, (_, pose, m) in zip(ids, boxed):
            if pid == viewer:
                lm, mask = pose, m
        # People outside the zone are ignored: they neither make presence nor count.
        allowed = self._selector.allowed
        inside = [p for p in self._people.people if allowed is None or allowed(p)]
        self._anyone, self._inside = any(p.seen for p in inside), len(inside)
        if image is not None and self._selfie is not None:
            mask = self._selfie.process(image).segmentation_mask
        self._pose_found = lm is not None
        self._speed = 0.0
        history = self._pose_history
        if lm is None or (history and not 0 < t - history[-1][0] <= MAX_MOTION_GAP):
            history.clear()
        if lm is not None:
            self._pose_lm, self._pose_seen_at = lm, n
            history.append((t, lm))
            while len(history) > 2 and t - history[1][0] >= MOTION_WINDOW:
                history.pop(0)
            if len(history) > 1:
                self._speed = body_speed(history[0][1], lm, t - history[0][0], w, h)
        self._mask = mask

    def _run_face(self, image: np.ndarray | None, n: int, w: int, h: int) -> None:
        faces: list[np.ndarray] = []
        if image is not None:
            box = None
            if self._head_mesh is not None and self._pose_found:
                box = head_box(self._pose_lm, w, h)
            if box is None:
                # With a zone, a face found without its body cannot be placed in it: not counted.
                faces = _faces(self._mesh.process(image)) if self._selector.allowed is None else []
            else:
                x0, y0, x1, y1 = box
                crop = np.ascontiguousarray(image[y0:y1, x0:x1])
                faces = [face_to_frame(f, box, w, h) for f in _faces(self._head_mesh.process(crop))]
        face = self._pick_face(faces, w, h)
        self._face_found = face is not None
        if face is not None:
            self._face_lm, self._face_seen_at = face, n

    def _pick_face(self, faces: list[np.ndarray], w: int, h: int) -> np.ndarray | None:
        """The face of the person the pose tracks if it can tell, else the largest (closest) face."""
        if not faces:
            return None
        scale = np.array([w, h], dtype=np.float64)

        def width(f: np.ndarray) -> float:
            return float(np.linalg.norm((f[F_CHEEK_LEFT, :2] - f[F_CHEEK_RIGHT, :2]) * scale))

        pose = self._pose_lm if self._pose_found else None
        if pose is not None and pose[P_NOSE, 3] >= VISIBLE:
            gaps = [float(np.linalg.norm((f[F_NOSE_TIP, :2] - pose[P_NOSE, :2]) * scale)) for f in faces]
            best = int(np.argmin(gaps))
            if gaps[best] < width(faces[best]):
                return faces[best]
        return max(faces, key=width)

    def _mask_for(self, w: int, h: int) -> np.ndarray | None:
        """The person mask at most mask_width wide; all zeros while nobody is segmented."""
        if not self.settings.segmentation:
            return None
        mw = max(1, min(self.settings.mask_width, w))
        mh = max(1, round(h * mw / w)) if w else 1
        if self._mask is None:
            return np.zeros((mh, mw), np.float32)
        m = cv2.resize(np.asarray(self._mask, np.float32), (mw, mh), interpolation=cv2.INTER_AREA)
        return np.clip(m, 0.0, 1.0).astype(np.float32, copy=False)

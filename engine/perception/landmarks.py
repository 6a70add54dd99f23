"""Raw geometric measures on MediaPipe landmarks, before any calibration to 0..1.

Kept apart from features.py so the calibration constants there can be refitted
against these measures without touching the geometry. All functions are pure:
landmarks in (normalised to the image as MediaPipe gives them), numbers out.
Coordinates are first scaled to pixels, because normalised x and y use
different units on a non-square frame and angles would come out skewed.
"""

from __future__ import annotations

import math

import numpy as np

# Face mesh indices (canonical MediaPipe topology). "Right" = the person's right,
# which is the image's left side for an un-mirrored camera.
F_NOSE_TIP, F_FOREHEAD, F_CHIN = 1, 10, 152
F_RIGHT_EYE_OUT, F_RIGHT_EYE_IN, F_RIGHT_LID_UP, F_RIGHT_LID_LOW = 33, 133, 159, 145
F_LEFT_EYE_OUT, F_LEFT_EYE_IN, F_LEFT_LID_UP, F_LEFT_LID_LOW = 263, 362, 386, 374
F_RIGHT_BROW, F_LEFT_BROW = (70, 63, 105, 66, 107), (300, 293, 334, 296, 336)
F_MOUTH_RIGHT, F_MOUTH_LEFT, F_LIP_UP_IN, F_LIP_LOW_IN = 61, 291, 13, 14
F_CHEEK_RIGHT, F_CHEEK_LEFT = 234, 454

# Pose indices.
P_NOSE, P_LEFT_EYE, P_RIGHT_EYE, P_LEFT_EAR, P_RIGHT_EAR = 0, 2, 5, 7, 8
P_LEFT_SHOULDER, P_RIGHT_SHOULDER, P_LEFT_WRIST, P_RIGHT_WRIST = 11, 12, 15, 16
P_LEFT_HIP, P_RIGHT_HIP = 23, 24
P_UPPER_BODY = (0, 11, 12, 13, 14, 15, 16)

VISIBLE = 0.5  # MediaPipe visibility above which a pose landmark is trusted
# Stricter for velocity: a half-seen elbow at the frame's edge jumps tens of pixels
# between identical video frames, which would read as motion of a viewer standing still.
MOTION_VISIBLE = 0.8
PITCH_OFFSET_DEG = 7.0  # the mesh normal points ~7° down on level faces (median of LFW photos)
NOSE_AHEAD_OF_EARS = 1.5  # ear-to-ear width / depth of the nose ahead of the ear line (pose yaw)
TORSO_PER_SHOULDER = 1.35  # shoulder-to-hip length / shoulder width, when the hips are unseen
FACE_PER_EAR_SPAN = 1.2  # mesh face width / pose ear-to-ear distance (astronaut portrait)
FACE_PER_SHOULDER = 0.47  # mesh face width / pose shoulder width (astronaut portrait)
HEAD_CROP_PER_EAR_SPAN = 4.0  # head crop side, in ear-to-ear distances...
HEAD_CROP_PER_SHOULDER = 1.6  # ...or in shoulder widths, whichever is larger (one shrinks in profile)
HEAD_CROP_MIN_PX = 48


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else v * 0.0


def _pixels(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """x, y, z of normalised landmarks in pixels (MediaPipe scales z like x)."""
    p = np.asarray(points, dtype=np.float64)[:, :3].copy()
    p[:, 0] *= width
    p[:, 1] *= height
    p[:, 2] *= width
    return p


def face_measures(face: np.ndarray, width: int, height: int) -> dict[str, float] | None:
    """Head angles (degrees), face width (px) and expression ratios from one face mesh.

    Expression lengths are divided by the 3-D span of the outer eye corners,
    the steadiest length on a face: it does not change with any expression.
    """
    if face is None or len(face) < 468:
        return None
    p = _pixels(face, width, height)
    eye_span = float(np.linalg.norm(p[F_LEFT_EYE_OUT] - p[F_RIGHT_EYE_OUT]))
    if eye_span < 1e-6:
        return None
    right = _unit(p[F_LEFT_EYE_OUT] - p[F_RIGHT_EYE_OUT])  # toward the image's right for a frontal face
    down = p[F_CHIN] - p[F_FOREHEAD]
    down = _unit(down - right * float(np.dot(down, right)))
    normal = np.cross(down, right)  # points out of the face, toward the camera (−z) when frontal
    yaw = math.degrees(math.atan2(normal[0], -normal[2]))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, -normal[1])))) + PITCH_OFFSET_DEG
    eye_line = p[F_LEFT_EYE_OUT, :2] - p[F_RIGHT_EYE_OUT, :2]
    roll = math.degrees(math.atan2(eye_line[1], eye_line[0]))

    lip_mid = (p[F_LIP_UP_IN] + p[F_LIP_LOW_IN]) / 2
    corners = (p[F_MOUTH_RIGHT] + p[F_MOUTH_LEFT]) / 2
    eye_mid = (p[F_RIGHT_EYE_OUT] + p[F_RIGHT_EYE_IN] + p[F_LEFT_EYE_OUT] + p[F_LEFT_EYE_IN]) / 4
    brow = (p[list(F_RIGHT_BROW)].mean(axis=0) + p[list(F_LEFT_BROW)].mean(axis=0)) / 2

    def eye_ratio(up: int, low: int, a: int, b: int) -> float:
        return float(np.linalg.norm(p[up] - p[low]) / max(np.linalg.norm(p[a] - p[b]), 1e-6))

    return {
        "nose_x": float(face[F_NOSE_TIP][0]),
        "nose_y": float(face[F_NOSE_TIP][1]),
        "face_width": float(np.linalg.norm(p[F_CHEEK_LEFT] - p[F_CHEEK_RIGHT])),
        "yaw": yaw,
        "pitch": pitch,
        "roll": roll,
        "mouth_width": float(np.linalg.norm(p[F_MOUTH_LEFT] - p[F_MOUTH_RIGHT])) / eye_span,
        "corner_lift": float(np.dot(lip_mid - corners, down)) / eye_span,
        "lip_gap": float(np.linalg.norm(p[F_LIP_LOW_IN] - p[F_LIP_UP_IN])) / eye_span,
        "brow_height": float(np.dot(eye_mid - brow, down)) / eye_span,
        "eye_ratio": (
            eye_ratio(F_RIGHT_LID_UP, F_RIGHT_LID_LOW, F_RIGHT_EYE_OUT, F_RIGHT_EYE_IN)
            + eye_ratio(F_LEFT_LID_UP, F_LEFT_LID_LOW, F_LEFT_EYE_OUT, F_LEFT_EYE_IN)
        )
        / 2,
    }


def _seen(pose: np.ndarray, *idx: int) -> bool:
    return bool(np.all(pose[list(idx), 3] >= VISIBLE))


def pose_head_angles(pose: np.ndarray, width: int, height: int) -> tuple[float, float] | None:
    """Coarse head yaw and roll (degrees) from the pose's nose, eyes and ears.

    Yaw models the ears as the ends of a bar with the nose ahead of its middle:
    the nose's sideways offset against the ears' projected span gives the angle
    even in profile, where the face mesh finds no face at all.
    """
    if pose is None or len(pose) < 33 or not _seen(pose, P_NOSE, P_LEFT_EAR, P_RIGHT_EAR):
        return None
    p = _pixels(pose, width, height)
    ear_span = p[P_LEFT_EAR, 0] - p[P_RIGHT_EAR, 0]  # > 0 facing the camera
    nose_off = p[P_NOSE, 0] - (p[P_LEFT_EAR, 0] + p[P_RIGHT_EAR, 0]) / 2
    yaw = math.degrees(math.atan2(NOSE_AHEAD_OF_EARS * nose_off, ear_span))
    roll = 0.0
    if _seen(pose, P_LEFT_EYE, P_RIGHT_EYE):
        eye_line = p[P_LEFT_EYE, :2] - p[P_RIGHT_EYE, :2]
        roll = math.degrees(math.atan2(eye_line[1], abs(eye_line[0]) + 1e-9))
    return yaw, roll


def head_box(pose: np.ndarray, width: int, height: int) -> tuple[int, int, int, int] | None:
    """Pixel box (x0, y0, x1, y1) around the pose's head, for running the face mesh on a crop.

    The face mesh's own detector is a short-range one: on a whole 640×480 frame
    it loses faces beyond about 1.5 m, where the pose still sees the person.
    Cropping around the head first gives it those faces at a size it can read.
    """
    if pose is None or len(pose) < 33 or not _seen(pose, P_NOSE):
        return None
    p = _pixels(pose, width, height)[:, :2]
    side = HEAD_CROP_MIN_PX
    if _seen(pose, P_LEFT_EAR, P_RIGHT_EAR):
        side = max(side, HEAD_CROP_PER_EAR_SPAN * float(np.linalg.norm(p[P_LEFT_EAR] - p[P_RIGHT_EAR])))
    if _seen(pose, P_LEFT_SHOULDER, P_RIGHT_SHOULDER):
        shoulders = float(np.linalg.norm(p[P_LEFT_SHOULDER] - p[P_RIGHT_SHOULDER]))
        side = max(side, HEAD_CROP_PER_SHOULDER * shoulders)
    cx, cy = p[P_NOSE]
    x0, x1 = max(0, int(cx - side / 2)), min(width, int(cx + side / 2))
    y0, y1 = max(0, int(cy - side / 2)), min(height, int(cy + side / 2))
    if x1 - x0 < HEAD_CROP_MIN_PX / 2 or y1 - y0 < HEAD_CROP_MIN_PX / 2:
        return None
    return x0, y0, x1, y1


def face_to_frame(face: np.ndarray, box: tuple[int, int, int, int], width: int, height: int) -> np.ndarray:
    """Face landmarks found in a crop, re-normalised to the whole frame (z scales like x)."""
    x0, y0, x1, y1 = box
    out = np.asarray(face, dtype=np.float64).copy()
    out[:, 0] = (x0 + out[:, 0] * (x1 - x0)) / width
    out[:, 1] = (y0 + out[:, 1] * (y1 - y0)) / height
    out[:, 2] *= (x1 - x0) / width
    return out


def body_measures(pose: np.ndarray, width: int, height: int) -> dict[str, float] | None:
    """Position, size and arm/torso geometry from a pose; None without both shoulders.

    Heights are measured along the torso axis (not the image vertical), so a
    tilted camera or a leaning viewer does not read as raised hands. When the
    hips are out of frame (a close viewer) the torso is inferred from the
    shoulder line, because MediaPipe's guesses for unseen hips wander.
    """
    if pose is None or len(pose) < 33 or not _seen(pose, P_LEFT_SHOULDER, P_RIGHT_SHOULDER):
        return None
    p = _pixels(pose, width, height)[:, :2]
    shoulders = p[P_LEFT_SHOULDER] - p[P_RIGHT_SHOULDER]
    shoulder_width = float(np.linalg.norm(shoulders))
    if shoulder_width < 1e-6:
        return None
    shoulder_mid = (p[P_LEFT_SHOULDER] + p[P_RIGHT_SHOULDER]) / 2
    if _seen(pose, P_LEFT_HIP, P_RIGHT_HIP):
        hip_mid = (p[P_LEFT_HIP] + p[P_RIGHT_HIP]) / 2
        up = _unit(shoulder_mid - hip_mid)
        torso = float(np.linalg.norm(shoulder_mid - hip_mid))
    else:
        up = _unit(np.array([shoulders[1], -shoulders[0]]))
        if up[1] > 0:  # seen from behind the shoulder line runs the other way
            up = -up
        torso = TORSO_PER_SHOULDER * shoulder_width
        hip_mid = shoulder_mid - up * torso
    torso = max(torso, 1e-6)

    def wrist_up(i: int) -> float:
        # A wrist above the top edge is a raised hand even if MediaPipe calls it unseen.
        if pose[i, 3] < VISIBLE and pose[i, 1] >= 0:
            return 0.0
        return float(np.dot(p[i] - hip_mid, up)) / torso

    both_wrists = _seen(pose, P_LEFT_WRIST, P_RIGHT_WRIST)
    if _seen(pose, P_LEFT_EAR, P_RIGHT_EAR):
        face_width = FACE_PER_EAR_SPAN * float(np.linalg.norm(p[P_LEFT_EAR] - p[P_RIGHT_EAR]))
        face_width = max(face_width, FACE_PER_SHOULDER * shoulder_width)
    else:
        face_width = FACE_PER_SHOULDER * shoulder_width
    head = pose[P_NOSE] if _seen(pose, P_NOSE) else (pose[P_LEFT_SHOULDER] + pose[P_RIGHT_SHOULDER]) / 2
    return {
        "head_x": float(head[0]),
        "head_y": float(head[1]),
        "face_width": face_width,
        "left_wrist_up": wrist_up(P_LEFT_WRIST),
        "right_wrist_up": wrist_up(P_RIGHT_WRIST),
        "wrist_span": (
            float(np.linalg.norm(p[P_LEFT_WRIST] - p[P_RIGHT_WRIST])) / shoulder_width if both_wrists else 0.0
        ),
        "lean": math.degrees(math.atan2(up[0], -up[1])),
    }


def body_speed(prev: np.ndarray | None, cur: np.ndarray | None, dt: float, width: int, height: int) -> float:
    """Mean upper-body landmark speed in shoulder widths per second (0 when unknown).

    Measuring in shoulder widths makes the energy of a gesture the same near
    and far from the camera; only landmarks seen in both poses count.
    """
    if prev is None or cur is None or not dt > 0 or not _seen(cur, P_LEFT_SHOULDER, P_RIGHT_SHOULDER):
        return 0.0
    idx = [i for i in P_UPPER_BODY if prev[i, 3] >= MOTION_VISIBLE and cur[i, 3] >= MOTION_VISIBLE]
    if not idx:
        return 0.0
    a = _pixels(prev[idx], width, height)[:, :2]
    b = _pixels(cur[idx], width, height)[:, :2]
    c = _pixels(cur[[P_LEFT_SHOULDER, P_RIGHT_SHOULDER]], width, height)[:, :2]
    scale = max(float(np.linalg.norm(c[0] - c[1])), 0.02 * max(width, height))
    return float(np.mean(np.linalg.norm(b - a, axis=1))) / scale / dt

"""Fixtures for perception tests: MediaPipe run directly, for the pure feature functions."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest


class Landmarker:
    """Static-image MediaPipe, returning landmarks as the arrays engine.perception expects."""

    def __init__(self) -> None:
        import mediapipe as mp

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True
        )
        self._pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)

    def face(self, image: np.ndarray) -> np.ndarray | None:
        res = self._mesh.process(np.ascontiguousarray(image))
        if not res.multi_face_landmarks:
            return None
        return np.array([[p.x, p.y, p.z] for p in res.multi_face_landmarks[0].landmark])

    def pose(self, image: np.ndarray) -> np.ndarray | None:
        res = self._pose.process(np.ascontiguousarray(image))
        if res.pose_landmarks is None:
            return None
        return np.array([[p.x, p.y, p.z, p.visibility] for p in res.pose_landmarks.landmark])

    def close(self) -> None:
        self._mesh.close()
        self._pose.close()


@pytest.fixture(scope="module")
def landmarker() -> Iterator[Landmarker]:
    lm = Landmarker()
    yield lm
    lm.close()

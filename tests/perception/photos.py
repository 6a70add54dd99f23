"""Real photographs for perception tests, shipped inside scikit-image and matplotlib (no download).

Transformations (mirror, rotate, pad) keep every pixel a real photograph; they
move the person in ways whose effect on the features is known in advance.
Labels for the Labeled Faces in the Wild subset were assigned by looking at
the faces (upscaled) before the expression mappings were fitted on them, so
the expression tests are a calibration check, not an independent validation.
The HELD_OUT_* faces and Grace Hopper's portrait are that validation: the
constants never saw them (tests/perception/test_features_held_out.py).
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np
import skimage.data

# Indices into skimage.data.lfw_subset() (the first 100 are faces), labelled by eye.
LFW_SMILING = (1, 18, 19, 22, 31, 37, 38, 52, 53, 69, 74, 79, 81, 85, 91, 94)
LFW_NEUTRAL = (3, 6, 7, 20, 25, 26, 28, 35, 40, 42, 60, 62, 65, 66, 70, 72, 73, 76, 80, 86, 92, 98)
LFW_MOUTH_OPEN = (0, 29, 51, 59, 77)  # talking or shouting, not smiling
LFW_TURNED_TO_IMAGE_LEFT = (47, 57, 75)  # nose clearly toward the image's left edge
# Held out: the LFW faces in none of the lists above, labelled by eye on an upscaled contact sheet
# after the constants were fitted and before the pipeline was run on them (clear cases only).
HELD_OUT_SMILING = (11, 23, 27, 41, 45, 50, 61, 96)
HELD_OUT_NEUTRAL = (4, 5, 14, 15, 17, 32, 34, 67, 68, 78, 83, 88, 90, 95)
HELD_OUT_MOUTH_OPEN = (16, 33, 48, 58, 97)  # talking, not smiling
HELD_OUT_TURNED_TO_IMAGE_LEFT = (99,)  # (30 is turned too, but the face mesh does not find it)


def rgb(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image if image.ndim == 3 else np.stack([image] * 3, axis=-1))


@cache
def _astronaut() -> np.ndarray:
    return skimage.data.astronaut()


def astronaut() -> np.ndarray:
    """Eileen Collins, frontal, broad smile: 512×512 RGB."""
    return _astronaut().copy()


def grace_hopper() -> np.ndarray:
    """Grace Hopper, frontal and upright, mouth closed, a slight smile, glasses: 600×512 RGB.

    Her official U.S. Navy portrait, public domain as a work of the U.S. federal government,
    shipped as sample data inside matplotlib (a test dependency through requirements-train.txt).
    """
    from matplotlib import cbook

    return cv2.cvtColor(
        cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))), cv2.COLOR_BGR2RGB
    )


def cameraman() -> np.ndarray:
    """A man in profile (facing the image's right edge) behind a camera: grayscale → RGB."""
    return rgb(skimage.data.camera())


def no_people() -> list[np.ndarray]:
    """Real photographs without anyone in them: a cat, a coffee cup, a rocket."""
    return [skimage.data.chelsea(), skimage.data.coffee(), skimage.data.rocket()]


@cache
def _lfw() -> np.ndarray:
    return skimage.data.lfw_subset()


def lfw_face(i: int) -> np.ndarray:
    """One 25×25 LFW face, upscaled and given a border so the face detector sees some context."""
    face = (np.clip(_lfw()[i], 0, 1) * 255).astype(np.uint8)
    face = cv2.resize(face, (200, 200), interpolation=cv2.INTER_CUBIC)
    return rgb(cv2.copyMakeBorder(face, 60, 60, 60, 60, cv2.BORDER_REPLICATE))


def mirrored(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1])


def rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate about the centre; positive = counter-clockwise as seen (OpenCV's convention)."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def shrunk(image: np.ndarray, factor: float) -> np.ndarray:
    """The photo scaled down by factor in the middle of a same-size dark canvas: the person, farther."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (round(w / factor), round(h / factor)), interpolation=cv2.INTER_AREA)
    top, left = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    return cv2.copyMakeBorder(
        small,
        top,
        h - small.shape[0] - top,
        left,
        w - small.shape[1] - left,
        cv2.BORDER_CONSTANT,
        value=(0, 0, 0),
    )


def in_frame(image: np.ndarray, width: int = 640, height: int = 480) -> np.ndarray:
    """The photo fitted into a camera-sized frame (letterboxed), as a webcam would deliver it."""
    from engine.perception.bench import letterbox

    return letterbox(image, width, height)

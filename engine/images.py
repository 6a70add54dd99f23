"""One converter from whatever arrives to the RGB uint8 the engine works in.

Cameras give BGR, one channel (infrared) or BGRA; a video may be RGBA; a test or an odd generator
hands over floats. Perception, the render chain and the camera all meet such images, and each used
to carry its own converter with its own gaps (the render chain crashed on a 5-channel array, the
tracker rounded floats down). One function keeps the rules in one place: an odd image still
shows, and an array that is no image at all is reported as None for the caller to handle (the
tracker reads it as an empty room) rather than crashing a stage mid-show.
"""

from __future__ import annotations

import cv2
import numpy as np


def as_rgb(image: np.ndarray, *, bgr: bool = False) -> np.ndarray | None:
    """`image` as contiguous H×W×3 uint8 RGB, or None when it is no image (wrong rank or channels).

    Gray (H×W or H×W×1) is repeated into three channels; a fourth (alpha) channel is dropped;
    `bgr` says the colour channels come in OpenCV's order. Floats are 0..1 when none exceeds 1
    (generators, OpenCV's float convention) and 0..255 otherwise (a float copy of an 8-bit
    image); they are rounded, NaN reads as 0, and everything is clipped to 0..255. Booleans are
    0 or 255. A uint8 RGB image that is already contiguous comes back as it is, without a copy.
    """
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] in (3, 4))):
        return None
    if img.dtype != np.uint8:
        img = _to_uint8(img)
    if img.size == 0:
        return np.zeros((*img.shape[:2], 3), np.uint8)
    # OpenCV for the channel work: a reversed numpy view copied out is ~80x slower per camera frame.
    if img.ndim == 2:
        code: int | None = cv2.COLOR_GRAY2RGB
    elif img.shape[2] == 4:
        code = cv2.COLOR_BGRA2RGB if bgr else cv2.COLOR_RGBA2RGB
    else:
        code = cv2.COLOR_BGR2RGB if bgr else None
    img = np.ascontiguousarray(img)
    return img if code is None else cv2.cvtColor(img, code)


def _to_uint8(img: np.ndarray) -> np.ndarray:
    if img.dtype.kind == "b":
        return img.astype(np.uint8) * np.uint8(255)
    if img.dtype.kind == "f":
        img = np.nan_to_num(img.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
        if img.size and img.max() <= 1.0:
            img = img * 255.0
        img = img + 0.5  # round half up: the truncating cast below then rounds
    return np.clip(img, 0, 255).astype(np.uint8)

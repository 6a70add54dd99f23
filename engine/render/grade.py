"""Colour matrices for the shader chain, computed once per frame on the CPU.

Hue rotation, saturation, contrast, brightness, gain and blackout are all
affine in RGB, so their product is one 3×3 matrix and an offset: the shader
does one multiply-add per pixel instead of trigonometry per pixel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

LUMA = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709, as in the shaders


def hue_matrix(turns: float) -> np.ndarray:
    """Rotation around the gray axis (Rodrigues): keeps gray gray, 1/3 turn maps red to green."""
    a = turns * 2.0 * math.pi
    k = np.full(3, 1.0 / math.sqrt(3.0))
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return math.cos(a) * np.eye(3) + math.sin(a) * kx + (1.0 - math.cos(a)) * np.outer(k, k)


def saturation_matrix(s: float) -> np.ndarray:
    """mix(luma, c, s) as a matrix: 0 = gray, 1 = identity."""
    return s * np.eye(3) + (1.0 - s) * np.outer(np.ones(3), LUMA)


def grade_affine(u: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """The grade as (matrix, offset): c' = M c + o, in the order hue → saturation → contrast →
    brightness → intensity × (1 − blackout)."""
    m = saturation_matrix(u["saturation"]) @ hue_matrix(u["hue_shift"])
    k = u["contrast"]
    gain = u["intensity"] * (1.0 - u["blackout"])
    matrix = gain * k * m
    offset = np.full(3, gain * (0.5 * (1.0 - k) + u["brightness"]))
    return matrix, offset


def grade_uniforms(u: Mapping[str, float]) -> tuple[int, dict[str, object]]:
    """(level, uniforms) for grade.glsl: level 0 = identity (skip the grade), 1 = no hue shift
    (gain + luma form), 2 = full matrix (variant HUE)."""
    matrix, offset = grade_affine(u)
    values: dict[str, object] = {"u_grade_offset": tuple(float(v) for v in offset)}
    if abs(u["hue_shift"]) > 1e-6:
        values["u_grade"] = gl_mat3(matrix)
        return 2, values
    if np.allclose(matrix, np.eye(3), atol=1e-5) and np.allclose(offset, 0.0, atol=1e-5):
        return 0, {}
    scale = u["intensity"] * (1.0 - u["blackout"]) * u["contrast"]
    values["u_grade_gain"] = scale * u["saturation"]
    values["u_grade_luma"] = scale * (1.0 - u["saturation"])
    return 1, values


def field_coefficients(u: Mapping[str, float]) -> tuple[float, float]:
    """The field outside the silhouette as `gain * c + luma_gain * luma(c)`: desaturated by
    `field_desat`, darkened by `field_dim` (a scaled saturation matrix, in two numbers)."""
    keep = 1.0 - u["field_dim"]
    return keep * (1.0 - u["field_desat"]), keep * u["field_desat"]


def gl_mat3(m: np.ndarray) -> tuple[float, ...]:
    """GLSL wants column-major order."""
    return tuple(float(v) for v in np.asarray(m, dtype=np.float64).T.reshape(-1))

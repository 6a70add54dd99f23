"""The recording dot on a real GL context: red in the top-right corner while recording, absent otherwise."""

from __future__ import annotations

import numpy as np

from engine.messages import RenderInput
from engine.render.overlay import dot_geometry
from engine.render.readback import read_rgb
from tests.render.util import SIZE, draw, solid

W, H = SIZE
GREY, RED_PICTURE = (120, 130, 140), (200, 30, 30)


def dot_pixels() -> tuple[tuple[int, int], float]:
    """(row, column) of the dot's centre in a top-row-first read-back, and its radius."""
    (cx, cy), r = dot_geometry(SIZE)
    return (round(H - 1 - cy), round(cx)), r


def with_dot(renderer, surface, image: np.ndarray, recording: bool) -> np.ndarray:
    """The picture through the chain, then the overlay as the chain draws it, read back."""
    renderer.render(RenderInput(image=image, uniforms={}), surface.framebuffer)
    renderer.overlay.draw((), None, "", (1.0, 1.0), False, recording=recording)
    return read_rgb(surface.framebuffer)


def is_red(px: np.ndarray) -> bool:
    r, g, b = (int(v) for v in px)
    return r > 200 and g < 40 and b < 40


def test_dot_is_red_in_the_corner_while_recording(renderer, surface):
    out = with_dot(renderer, surface, solid(GREY), recording=True)
    (row, col), r = dot_pixels()
    assert is_red(out[row, col])
    red = (out[..., 0] > 200) & (out[..., 1] < 40) & (out[..., 2] < 40)
    ys, xs = np.nonzero(red)
    assert len(ys) > 0.7 * np.pi * r * r, "a dot, not a speck"
    assert xs.min() > W * 0.8 and ys.max() < H * 0.2, "only in the top-right corner"
    assert np.array_equal(out[H // 2, W // 2], out[H // 2, W // 4]), "the rest of the picture is untouched"


def test_no_dot_without_recording(renderer, surface):
    out = with_dot(renderer, surface, solid(GREY), recording=False)
    (row, col), _ = dot_pixels()
    assert not is_red(out[row, col])
    assert np.abs(out.astype(int) - np.array(GREY)).max() <= 3, "nothing drawn anywhere"


def test_dot_stays_visible_on_a_red_picture(renderer, surface):
    out = with_dot(renderer, surface, solid(RED_PICTURE), recording=True)
    (row, col), r = dot_pixels()
    rim = out[row, round(col - r - 1)].astype(int)  # just outside the red disc: the dark rim
    assert rim.sum() < 0.7 * sum(RED_PICTURE), "the rim sets the dot off a red picture"
    assert is_red(out[row, col])


def test_render_input_recording_reaches_the_picture(renderer, surface):
    (row, col), _ = dot_pixels()
    assert is_red(draw(renderer, surface, solid(GREY), recording=True)[row, col])
    assert not is_red(draw(renderer, surface, solid(GREY), recording=False)[row, col])

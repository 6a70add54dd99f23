"""The shader chain on a real GL context: known images in, pixels checked out."""

from __future__ import annotations

import numpy as np
import pytest

from engine.messages import RenderInput
from engine.render.readback import read_rgb
from tests.render.util import SIZE, draw, solid

W, H = SIZE
RED, BLUE, WHITE, BLACK = (255, 0, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)


def halves(left: tuple[int, int, int], right: tuple[int, int, int], size: int = 64) -> np.ndarray:
    img = solid(left, (size, size))
    img[:, size // 2 :] = right
    return img


def close(pixel: np.ndarray, rgb: tuple[int, int, int], tol: int = 3) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.array(rgb)) <= tol))


def test_left_red_right_blue_and_mirror_swaps(renderer, surface):
    img = halves(RED, BLUE)
    out = draw(renderer, surface, img)
    assert out.shape == (H, W, 3) and out.dtype == np.uint8
    assert close(out[H // 2, W // 8], RED) and close(out[H // 2, 7 * W // 8], BLUE)
    out = draw(renderer, surface, img, uniforms={"mirror": 1})
    assert close(out[H // 2, W // 8], BLUE) and close(out[H // 2, 7 * W // 8], RED)


def test_top_row_first_and_cover_fit(renderer, surface):
    # Top half red, bottom half blue; with a bright band only in the rows that cover fit crops off.
    img = solid(RED)
    img[32:] = BLUE
    img[:8] = WHITE  # cover fit of a square into 16:9 shows rows 14..50 of 64: the band is cut
    out = draw(renderer, surface, img)
    assert close(out[2, W // 2], RED) and close(out[H - 3, W // 2], BLUE)
    assert not np.any(np.all(out > 200, axis=2)), "cropped rows must not show"


def test_upscale_is_catmull_rom_not_bilinear(renderer, surface):
    # One white texel on mid-gray: Catmull-Rom's negative lobes dip below the background next to
    # the peak; bilinear never would. Also the peak spreads over many pixels (not nearest).
    img = solid((128, 128, 128), (16, 16))
    img[8, 8] = WHITE
    out = draw(renderer, surface, img)[:, :, 0].astype(int)
    assert out.min() < 122, "no undershoot: not Catmull-Rom"
    assert out.max() > 200
    ramp = np.unique(out[np.argmax(out.max(axis=1))])
    assert len(ramp) > 8, "hard steps: the filter is not interpolating"


def test_mask_darkens_outside_not_inside(renderer, surface):
    img = solid((200, 160, 120))
    mask = np.zeros((36, 64), np.float32)  # camera frame, 16:9 like the output
    mask[:, :32] = 1.0  # the person fills the left half
    out = draw(renderer, surface, img, mask=mask, uniforms={"mask_mix": 1.0, "field_dim": 0.6})
    inside, outside = out[H // 2, W // 8].astype(int), out[H // 2, 7 * W // 8].astype(int)
    assert close(inside, (200, 160, 120))
    assert outside.sum() < 0.6 * inside.sum()
    assert np.ptp(outside) < np.ptp(inside), "the field is desaturated"
    out = draw(renderer, surface, img, mask=mask, uniforms={"mask_mix": 1.0, "mirror": 1})
    assert out[H // 2, W // 8].sum() < out[H // 2, 7 * W // 8].sum(), "the mask follows the mirror"
    out = draw(renderer, surface, img, mask=mask, uniforms={"mask_mix": 0.0})
    assert close(out[H // 2, 7 * W // 8], (200, 160, 120)), "mask_mix 0: no silhouette effect"


def test_no_mask_means_nobody_there(renderer, surface):
    img = solid((200, 200, 200))
    out = draw(renderer, surface, img, mask=None, uniforms={"mask_mix": 1.0, "field_dim": 0.5})
    assert np.all(out[H // 2, :, 0] < 140)


def test_trails_keep_the_previous_frame(renderer, surface):
    draw(renderer, surface, solid(WHITE), uniforms={"trails": 0.8})
    out = draw(renderer, surface, solid(BLACK), uniforms={"trails": 0.8})
    assert 150 < out[H // 2, W // 2, 0] < 255, "with trails the white must linger"
    draw(renderer, surface, solid(WHITE), uniforms={"trails": 0.0})
    out = draw(renderer, surface, solid(BLACK), uniforms={"trails": 0.0})
    assert out.max() == 0


def test_trails_fade_out_completely(renderer, surface):
    draw(renderer, surface, solid(WHITE), uniforms={"trails": 0.9})
    for _ in range(100):
        out = draw(renderer, surface, solid(BLACK), uniforms={"trails": 0.9})
    assert out.max() == 0, "8-bit feedback would get stuck above black"


def test_blackout_gives_black(renderer, surface):
    out = draw(renderer, surface, halves(RED, WHITE), uniforms={"blackout": 1.0, "brightness": 0.3})
    assert out.max() == 0


def test_saturation_zero_gives_gray(renderer, surface):
    out = draw(renderer, surface, halves((200, 40, 10), (10, 90, 220)), uniforms={"saturation": 0.0})
    assert np.abs(out.astype(int) - out.mean(axis=2, keepdims=True)).max() <= 1
    assert out[H // 2, W // 8, 0] != out[H // 2, 7 * W // 8, 0], "luma kept, not flattened"


def test_hue_shift_third_turn_turns_red_green(renderer, surface):
    out = draw(renderer, surface, solid(RED), uniforms={"hue_shift": 1 / 3})
    assert close(out[H // 2, W // 2], (0, 255, 0), tol=4)


def test_contrast_and_intensity(renderer, surface):
    out = draw(renderer, surface, solid((100, 100, 100)), uniforms={"contrast": 0.0})
    assert close(out[H // 2, W // 2], (128, 128, 128), tol=1)
    out = draw(renderer, surface, solid((100, 100, 100)), uniforms={"intensity": 2.0})
    assert close(out[H // 2, W // 2], (200, 200, 200), tol=1)


def test_unknown_names_ignored_and_values_clamped(renderer, surface):
    out = draw(renderer, surface, solid(WHITE), uniforms={"no_such_uniform": 3.0, "blackout": 7.0})
    assert out.max() == 0
    assert renderer.uniforms["blackout"] == 1.0 and "no_such_uniform" not in renderer.uniforms


def test_content_change_in_the_same_buffer_is_seen(renderer, surface):
    img = solid(RED)
    first = draw(renderer, surface, img)
    assert np.array_equal(first, draw(renderer, surface, img))  # held frame: same picture
    img[:] = BLUE  # a generator that reuses its output buffer
    assert close(draw(renderer, surface, img)[H // 2, W // 2], BLUE)


def test_hud_lines_change_top_left_only_when_given(renderer, surface):
    img = solid((40, 40, 40))
    plain = draw(renderer, surface, img).astype(int)
    skeleton = np.zeros((33, 3), np.float32)
    skeleton[:, :2] = 0.5
    skeleton[11:17, 0] = np.linspace(0.6, 0.9, 6)
    skeleton[:, 2] = 1.0
    hud = draw(renderer, surface, img, hud_lines=("fps 60.0", "scene mirror"), skeleton=skeleton)
    diff = np.abs(hud.astype(int) - plain).sum(axis=2) > 30
    assert diff[: H // 4, : W // 3].any(), "HUD text in the top-left"
    assert diff[H // 3 :, W // 2 :].any(), "skeleton bones drawn"
    no_hud = draw(renderer, surface, img, skeleton=skeleton).astype(int)
    assert np.array_equal(no_hud, plain), "skeleton only with the HUD"


def test_note_is_drawn_discreetly_in_a_corner(renderer, surface):
    img = solid((90, 90, 90))
    plain = draw(renderer, surface, img).astype(int)
    noted = draw(renderer, surface, img, note="no camera — retrying").astype(int)
    changed = np.abs(noted - plain).sum(axis=2) > 20
    assert changed.any()
    rows, cols = np.nonzero(changed)
    assert rows.min() > H // 2 and cols.min() > W // 3, "note stays in the bottom-right corner"
    assert changed.mean() < 0.1, "note is small"


def test_odd_inputs(renderer, surface):
    gray = np.full((30, 50), 200, np.uint8)  # gray, non-square, odd width
    out = draw(renderer, surface, gray)
    assert close(out[H // 2, W // 2], (200, 200, 200))
    rgba_float = np.zeros((40, 40, 4), np.float32)
    rgba_float[..., 1] = 1.0
    out = draw(renderer, surface, rgba_float)
    assert close(out[H // 2, W // 2], (0, 255, 0))
    eight_bit_float = np.full((40, 40, 3), 100.0, np.float32)  # 0..255 in floats: not saturated
    assert close(draw(renderer, surface, eight_bit_float)[H // 2, W // 2], (100, 100, 100))


def test_no_image_is_named(renderer, surface):
    with pytest.raises(ValueError, match=r"render: the generated image has shape \(40, 40, 5\)"):
        draw(renderer, surface, np.zeros((40, 40, 5), np.uint8))


def test_follows_the_target_size(renderer, surface):
    small = surface.ctx.framebuffer(color_attachments=[surface.ctx.renderbuffer((160, 90), 4)])
    img = solid(RED)
    img[:, 32:] = BLUE
    renderer.render(RenderInput(image=img, uniforms={"trails": 0.5}, hud_lines=("hud",)), small)
    out = read_rgb(small)
    assert renderer.size == (160, 90) and out.shape == (90, 160, 3)
    assert close(out[45, 10], RED) and close(out[45, 150], BLUE)
    out = draw(renderer, surface, img)
    assert renderer.size == SIZE and close(out[H // 2, W - 5], BLUE)
    small.release()


def test_half_resolution_chain_fills_the_output(surface):
    from engine.render.chain import Renderer

    half = Renderer(surface.ctx, surface.size, scale=0.5)
    try:
        img = halves(RED, BLUE)
        out = draw(half, surface, img, uniforms={"mask_mix": 0.5}, mask=np.ones((48, 64), np.float32))
        assert out.shape == (H, W, 3) and half.size == (W // 2, H // 2)
        assert close(out[H // 2, W // 8], RED, 6) and close(out[H // 2, 7 * W // 8], BLUE, 6)
        assert close(out[2, 2], RED, 6) and close(out[H - 3, W - 3], BLUE, 6)  # corners: stretched, not boxed
    finally:
        half.release()

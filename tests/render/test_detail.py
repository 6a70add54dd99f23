"""The detail passes (engine.render.detail) on a real GL context: sharpen, grain, paper, Kuwahara."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from engine import engine_params
from engine.control.commands import CommandQueue
from engine.control.osc.inbound import OscServer
from engine.control.osc.wire import encode_message
from engine.messages import Target
from engine.params import ParamRegistry
from engine.render.detail import SHARPEN_TEXELS
from tests.render.util import SIZE, draw, solid

W, H = SIZE
PASSES = ("sharpen", "grain", "paper", "kuwahara")
LUMA = np.array([0.2126, 0.7152, 0.0722])


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64) @ LUMA


def noise_image(size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def local_range(img: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel min and max over a (2r+1)² window (edge-padded), per channel."""
    pad = np.pad(img.astype(int), ((radius, radius), (radius, radius), (0, 0)), mode="edge")
    win = sliding_window_view(pad, (2 * radius + 1, 2 * radius + 1), axis=(0, 1))
    return win.min(axis=(-2, -1)), win.max(axis=(-2, -1))


def high_freq_energy(img: np.ndarray) -> float:
    """Mean squared Laplacian of the luminance: grows when edges and texture get crisper."""
    y = luma(img)
    lap = 4 * y[1:-1, 1:-1] - y[:-2, 1:-1] - y[2:, 1:-1] - y[1:-1, :-2] - y[1:-1, 2:]
    return float(np.mean(lap**2))


def test_every_pass_at_zero_is_todays_frame(renderer, surface):
    """At zero each pass is skipped outright: the very same pixels as without the parameter, no
    pass run, nothing allocated; switching a pass on and off again leaves nothing behind."""
    img = noise_image(32)
    mask = np.zeros((36, 64), np.float32)
    mask[:, :30] = 1.0
    for uniforms, m in (({}, None), ({"mask_mix": 1.0, "saturation": 1.4}, mask)):
        today = draw(renderer, surface, img, mask=m, uniforms=uniforms)
        zeros = {**uniforms, **dict.fromkeys(PASSES, 0.0)}
        runs = dict(renderer.detail.runs)
        assert np.array_equal(draw(renderer, surface, img, mask=m, uniforms=zeros, t=3.0), today)
        assert renderer.detail.runs == runs, "a pass ran at zero"
        if not any(runs.values()):  # the fresh renderer: no target allocated either
            assert all(t.texture is None for t in renderer.detail.targets.values())
        for name in PASSES:
            on = draw(renderer, surface, img, mask=m, uniforms={**zeros, name: 0.8}, t=1.0)
            assert not np.array_equal(on, today), f"{name} at 0.8 changed nothing"
            again = draw(renderer, surface, img, mask=m, uniforms=zeros, t=2.0)
            assert np.array_equal(again, today), f"{name} back at 0 is not today's frame"


def test_sharpen_lifts_detail_without_ringing(renderer, surface):
    soft_src = noise_image(32, seed=1)  # 10 output pixels per texel: a soft upscale
    soft = draw(renderer, surface, soft_src)
    sharp = draw(renderer, surface, soft_src, uniforms={"sharpen": 1.0})
    assert high_freq_energy(sharp) > 1.3 * high_freq_energy(soft)
    # No overshoot beyond what the taps saw (a 3×3 of taps `step` apart): no halo, no ringing.
    step = round(SHARPEN_TEXELS * W / 32)
    lo, hi = local_range(soft, step)
    assert np.all(sharp >= lo - 1) and np.all(sharp <= hi + 1)
    # A hard edge: sharpened, it adds nothing to the upscale's own small Catmull-Rom lobes.
    edge = solid((40, 40, 40), (32, 32))
    edge[:, 16:] = 220
    soft_edge = draw(renderer, surface, edge).astype(int)
    out = draw(renderer, surface, edge, uniforms={"sharpen": 1.0}).astype(int)
    assert out.min() >= soft_edge.min() - 1 and out.max() <= soft_edge.max() + 1
    assert high_freq_energy(out) > high_freq_energy(soft_edge), "the edge got steeper"
    half = draw(renderer, surface, soft_src, uniforms={"sharpen": 0.3})
    assert high_freq_energy(soft) < high_freq_energy(half) < high_freq_energy(sharp), "amount scales"


def test_grain_follows_the_clock_and_is_zero_mean(renderer, surface):
    gray = solid((128, 128, 128))
    clean = draw(renderer, surface, gray).astype(int)
    a = draw(renderer, surface, gray, uniforms={"grain": 0.5}, t=1.25)
    b = draw(renderer, surface, gray, uniforms={"grain": 0.5}, t=1.25)
    c = draw(renderer, surface, gray, uniforms={"grain": 0.5}, t=1.25 + 1 / 30)
    assert np.array_equal(a, b), "same clock time, same grain (offline renders repeat exactly)"
    assert np.mean(a != c) > 0.5, "the next frame's grain is another pattern"
    diff = a.astype(int) - clean
    assert 2.0 < diff.std() < 20.0
    assert abs(diff.mean()) < 0.3, "grain must not shift the brightness"
    assert np.all(diff[..., 0] == diff[..., 1]), "luminance grain: the same on every channel"
    dark = solid((12, 12, 12))
    dark_diff = draw(renderer, surface, dark, uniforms={"grain": 0.5}, t=1.25).astype(int) - 12
    assert dark_diff.std() < 0.4 * diff.std(), "luminance-weighted: little grain in the shadows"


def test_paper_darkens_at_most_its_amount_and_stays_on_screen(renderer, surface):
    two_tone = solid((200, 200, 200), (64, 64))
    two_tone[:, 32:] = 100
    clean = draw(renderer, surface, two_tone).astype(int)
    amount = 0.6
    papered = draw(renderer, surface, two_tone, uniforms={"paper": amount}).astype(int)
    assert np.all(papered <= clean + 1)
    assert np.all(papered >= np.floor(clean * (1 - amount)) - 1)
    assert (clean - papered).mean() > 5, "the texture darkens visibly"
    # Mirrored, the picture swaps sides but the surface stays: the relative darkening at each
    # screen pixel is the same whichever tone lies over it.
    mirrored = draw(renderer, surface, two_tone, uniforms={"paper": amount, "mirror": 1}).astype(int)
    clean_m = draw(renderer, surface, two_tone, uniforms={"mirror": 1}).astype(int)
    region = (slice(10, H - 10), slice(10, W // 2 - 20))  # 200 before the mirror, 100 after
    d1 = 1 - papered[region][..., 0] / clean[region][..., 0]
    d2 = 1 - mirrored[region][..., 0] / clean_m[region][..., 0]
    assert np.corrcoef(d1.ravel(), d2.ravel())[0, 1] > 0.8
    assert np.abs(d1 - d2).mean() < 0.02


def test_kuwahara_flattens_noise_and_keeps_the_edge(renderer, surface):
    rng = np.random.default_rng(5)
    img = np.where(np.arange(64) < 32, 60.0, 190.0)[None, :, None].repeat(64, 0).repeat(3, 2)
    img = np.clip(img + rng.normal(0, 12, (64, 64, 1)), 0, 255).astype(np.uint8)
    off = luma(draw(renderer, surface, img))
    on = luma(draw(renderer, surface, img, uniforms={"kuwahara": 1.0}))
    for cols in (slice(20, 120), slice(200, 300)):  # flat halves, away from the edge at x = 160
        assert on[20:-20, cols].var() < 0.5 * off[20:-20, cols].var()

    def edge_x(y: np.ndarray) -> np.ndarray:
        return np.argmax(y > 125, axis=1)  # first column past the midpoint, per row

    rows = slice(20, H - 20)
    assert abs(np.median(edge_x(on[rows])) - np.median(edge_x(off[rows]))) <= 1
    assert abs(np.median(edge_x(off[rows])) - W // 2) <= 3


def test_osc_param_reaches_the_pass(renderer, surface):
    """/param/fx.sharpen over real UDP → the command queue → the registry (as the pipeline applies
    it) → the engine's parameters over the scene's target → the renderer runs the sharpen pass."""
    reg = ParamRegistry()
    engine_params.declare(reg, directions=1)
    srv = OscServer(("127.0.0.1", 0), reg, CommandQueue(), time.monotonic)
    srv.start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(encode_message("/param/fx.sharpen", (0.5,)), srv.address)
            end = time.monotonic() + 3.0
            commands = []
            while not commands and time.monotonic() < end:
                commands = srv.commands.drain(time.monotonic())
                time.sleep(0.005)
    finally:
        srv.close()
    assert [(c.kind, c.args) for c in commands] == [("param", ("fx.sharpen", 0.5))]
    for c in commands:
        reg.set(*c.args, origin=c.origin)
    scene = Target({}, uniforms={"sharpen": 0.25})  # a scene's own amount: the fader adds to it
    target = engine_params.apply(scene, reg.snapshot())
    assert target.uniforms["sharpen"] == pytest.approx(0.75)
    img = noise_image(32, seed=2)
    before = draw(renderer, surface, img, uniforms=scene.uniforms)
    runs = renderer.detail.runs["sharpen"]
    after = draw(renderer, surface, img, uniforms=target.uniforms)
    assert renderer.detail.runs["sharpen"] == runs + 1
    assert renderer.uniforms["sharpen"] == pytest.approx(0.75)
    assert high_freq_energy(after) > high_freq_energy(before)

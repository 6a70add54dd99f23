"""The projector warp pass on real GL (EGL): dots land where the warp says, the blend follows its curve,
the chain draws through it only when a calibration is given."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from calibration import projector_mesh as mesh
from calibration.projector import EdgeBlend, OutputWarp
from engine.render.warp import blend_curve, blend_variant
from engine.render.warp_bench import demo_entry
from tests.render.util import draw, solid

W, H = 320, 180  # tests/render/util.SIZE: the module's surface


def keystone_and_mesh() -> OutputWarp:
    """A strong keystone and a mesh bent well away from flat (points moved by up to 6% of the square)."""
    grid = mesh.default_grid(5, 4)
    grid[1, 2] += (0.05, -0.03)
    grid[2, 1] += (-0.04, 0.04)
    grid[2, 3] += (0.06, 0.02)
    grid[1:3, 1:4, 1] += 0.03 * np.sin(np.pi * grid[1:3, 1:4, 0])
    corners = ((0.08, 0.03), (0.95, 0.12), (0.88, 0.97), (0.03, 0.86))
    return OutputWarp(corners, OutputWarp.default(5, 4).with_grid(grid).grid)


def dots_image(uv: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Small Gaussian dots (σ 1.2 px) centred on the picture coordinates `uv`, RGB, top row first."""
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w))
    for u, v in uv:
        img += np.exp(-((xs + 0.5 - u * w) ** 2 + (ys + 0.5 - v * h) ** 2) / (2 * 1.2**2))
    return np.repeat((np.clip(img, 0, 1) * 255).round().astype(np.uint8)[:, :, None], 3, axis=2)


def through_warp(surface, entry: OutputWarp, image: np.ndarray, size: tuple[int, int] | None = None):
    """`image` drawn through the warp into a framebuffer of `size` (default: the surface's), read back."""
    from engine.render.glutil import StreamTexture
    from engine.render.readback import read_rgb
    from engine.render.warp import Warp

    ctx = surface.ctx
    rb = ctx.renderbuffer(size, components=4) if size else None
    fbo = ctx.framebuffer(color_attachments=[rb]) if rb else surface.framebuffer
    tex = StreamTexture(ctx)
    warp = Warp(ctx, entry)
    try:
        warp.draw(tex.upload(np.ascontiguousarray(image[::-1])), fbo)  # GL wants the bottom row first
        return read_rgb(fbo)
    finally:
        warp.release()
        tex.release()
        if rb is not None:
            fbo.release()
            rb.release()


def found_dots(rgb: np.ndarray) -> np.ndarray:
    """Intensity-weighted centres of the bright blobs, in pixel index coordinates (x, y)."""
    gray = rgb[:, :, 0].astype(np.float64)
    n, labels = cv2.connectedComponents((gray > 20).astype(np.uint8))
    ys, xs = np.mgrid[0 : gray.shape[0], 0 : gray.shape[1]]
    out = []
    for k in range(1, n):
        m = np.where(labels == k, gray, 0.0)
        out.append(((m * xs).sum() / m.sum(), (m * ys).sum() / m.sum()))
    return np.array(out)


@pytest.mark.parametrize("size", [(W, H), (1280, 720)])
def test_dots_land_within_a_pixel_of_the_warp(surface, size):
    entry = keystone_and_mesh()
    # a lattice of dots, none on a control point or a tessellation vertex, inside the picture
    u, v = np.meshgrid(np.linspace(0.07, 0.93, 11), np.linspace(0.09, 0.91, 7))
    uv = np.stack([u.ravel(), v.ravel()], axis=1)
    rgb = through_warp(surface, entry, dots_image(uv, size), size)
    expected = mesh.warp_point(entry.corners, entry.grid_array(), uv[:, 0], uv[:, 1]) * size - 0.5
    found = found_dots(rgb)
    assert len(found) == len(uv), f"{len(found)} dots found, {len(uv)} drawn"
    err = np.min(np.linalg.norm(expected[:, None] - found[None], axis=2), axis=1)
    assert err.max() < 1.0, f"worst dot {err.max():.2f} px from where the warp puts it"
    # the map is far from identity: a test that could not tell a missing warp from a present one
    plain = uv * size - 0.5
    assert np.linalg.norm(plain - expected, axis=1).max() > 0.05 * size[0]


def test_control_points_are_where_the_picture_grid_lands(surface):
    """Catmull-Rom interpolates: the picture's grid point (i/(N-1), j/(M-1)) lands on control point
    (i, j) through the pin, which is what the editor shows and drags."""
    entry = keystone_and_mesh()
    cols, rows = entry.size
    u, v = np.meshgrid(np.linspace(0, 1, cols), np.linspace(0, 1, rows))
    at = mesh.warp_point(entry.corners, entry.grid_array(), u, v)
    np.testing.assert_allclose(at, mesh.apply_h(entry.homography(), entry.grid_array()), atol=1e-9)
    inner = np.stack([u[1:-1, 1:-1].ravel(), v[1:-1, 1:-1].ravel()], axis=1)
    rgb = through_warp(surface, entry, dots_image(inner, (640, 360)))
    expected = mesh.warp_point(entry.corners, entry.grid_array(), inner[:, 0], inner[:, 1]) * (W, H) - 0.5
    err = np.min(np.linalg.norm(expected[:, None] - found_dots(rgb)[None], axis=2), axis=1)
    assert err.max() < 1.0


def test_pure_corner_pin_is_exact_and_black_outside(surface):
    corners = ((0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75))
    rgb = through_warp(surface, OutputWarp(corners), solid((200, 100, 50), (64, 64)))
    assert (rgb[:44, :, :] == 0).all() and (rgb[:, :79, :] == 0).all()  # outside the pin: no light
    assert (np.abs(rgb[50:130, 85:235].astype(int) - (200, 100, 50)) <= 1).all()


PER_SIDE = (EdgeBlend(0.25, 2.2, 0.05), EdgeBlend(0.2, 1.8, 0.02), EdgeBlend(), EdgeBlend(0.1, 2.4, 0.0))
ONE_GAMMA = (EdgeBlend(0.25, 2.2, 0.05), EdgeBlend(0.2, 2.2, 0.02), EdgeBlend(), EdgeBlend(0.1, 2.2, 0.0))


@pytest.mark.parametrize("blend", [PER_SIDE, ONE_GAMMA], ids=["gamma per side", "one gamma"])
def test_blend_ramp_follows_its_curve(surface, blend):
    entry = OutputWarp(blend=blend)
    assert ("ONE_GAMMA" in blend_variant(entry)) == (blend is ONE_GAMMA)
    c = 160
    rgb = through_warp(surface, entry, solid((c, c, c), (64, 64))).astype(np.float64)
    xs = (np.arange(W) + 0.5) / W
    gain, lift = blend_curve(entry, xs, 0.5)
    expected = (c / 255 * gain + lift) * 255
    row = rgb[H // 2, :, 1]
    assert np.abs(row - expected).max() <= 2.0, np.abs(row - expected).max()
    # the curve is the gamma'd ramp: at a quarter into the left overlap, (1/4) ** (1/2.2) of the signal
    x = int(0.0625 * W)
    assert row[x] == pytest.approx(c * (((x + 0.5) / W) / 0.25) ** (1 / 2.2), abs=2)
    assert row[W // 2] == pytest.approx((c / 255 * 0.95 + 0.05) * 255, abs=1.5)  # lifted, outside overlaps
    ys = (np.arange(H) + 0.5) / H
    gain_v, lift_v = blend_curve(entry, 0.5, ys)
    col = rgb[:, W // 2, 1]
    assert np.abs(col - (c / 255 * gain_v + lift_v) * 255).max() <= 2.0


def test_chain_draws_through_the_warp_only_with_a_calibration(surface):
    from engine.render.chain import Renderer

    image = solid((30, 200, 90))
    plain = Renderer(surface.ctx, surface.size)
    pinned = Renderer(surface.ctx, surface.size, projector=OutputWarp(((0.5, 0.0), (1, 0), (1, 1), (0.5, 1))))
    try:
        assert plain.warp is None  # no projector.json: no pass at all
        full = draw(plain, surface, image)
        half = draw(pinned, surface, image)
        assert pinned.warp is not None and pinned.warp.draws == 1
        assert (half[:, : W // 2 - 1] == 0).all()  # the left half is dark
        assert (np.abs(half[:, W // 2 + 1 :].astype(int) - full[:, W // 2 + 1 :]) <= 2).all()
        pinned.set_projector(OutputWarp.default(4, 3))  # an identity (after R, S): no pass either
        assert pinned.warp is None
        pinned.set_projector(OutputWarp(blend=(EdgeBlend(0.1),) + (EdgeBlend(),) * 3))
        assert pinned.warp is not None
        pinned.set_projector(None)
        assert pinned.warp is None
        assert (np.abs(draw(pinned, surface, image).astype(int) - full) <= 1).all()
    finally:
        plain.release()
        pinned.release()


def test_demo_entry_is_a_valid_calibration():
    from calibration.projector import validate_entry

    entry = demo_entry()
    assert validate_entry(entry.to_json(), "demo", "outputs[0]") == entry

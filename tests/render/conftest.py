"""A real headless GL context for the render tests (EGL, e.g. Mesa llvmpipe); no mocks."""

from __future__ import annotations

import pytest

from tests.render.util import SIZE


@pytest.fixture(scope="module")
def surface():
    from engine.render.context import HeadlessSurface

    try:
        surf = HeadlessSurface(SIZE)
    except Exception as exc:  # no libEGL, no driver, no GL 3.3
        pytest.skip(f"no headless EGL GL 3.3 context available: {exc}")
    yield surf
    surf.close()


@pytest.fixture()
def renderer(surface):
    from engine.render.chain import Renderer

    r = Renderer(surface.ctx, surface.size)
    yield r
    r.release()

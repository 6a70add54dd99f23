"""A real headless GL context for the render tests (EGL, e.g. Mesa llvmpipe); no mocks.

The tests skip only where EGL is truly absent: libEGL cannot be loaded, or it loads and knows no
EGL device. Anywhere else a context that fails to open (no libGL, no GL 3.3, a broken driver) is a
broken install the engine would fail on too, so the tests fail with it rather than hide it.
"""

from __future__ import annotations

import ctypes

import pytest

from tests.render.util import SIZE


def egl_absent() -> str | None:
    """Why this machine has no EGL at all, or None when it has one (usable or not)."""
    try:
        egl = ctypes.CDLL("libEGL.so.1")  # the name glcontext's EGL backend loads
    except OSError as e:
        return f"EGL absent: libEGL.so.1 cannot be loaded ({e}); apt-get install libegl1 libegl-mesa0"
    egl.eglGetProcAddress.restype = ctypes.c_void_p
    egl.eglGetProcAddress.argtypes = [ctypes.c_char_p]
    address = egl.eglGetProcAddress(b"eglQueryDevicesEXT")
    if not address:
        return None  # cannot count devices: opening the context decides, and fails loudly
    query = ctypes.CFUNCTYPE(ctypes.c_uint, ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int))
    count = ctypes.c_int(-1)
    if query(address)(0, None, ctypes.byref(count)) and count.value == 0:
        return "EGL absent: libEGL loads but reports no EGL device (no vendor driver, e.g. libegl-mesa0)"
    return None


@pytest.fixture(scope="module")
def surface():
    from engine.render.context import HeadlessSurface

    absent = egl_absent()
    if absent:
        pytest.skip(absent)
    surf = HeadlessSurface(SIZE)  # EGL is here: an exception now is a broken install, a failure
    yield surf
    surf.close()


@pytest.fixture()
def renderer(surface):
    from engine.render.chain import Renderer

    r = Renderer(surface.ctx, surface.size)
    yield r
    r.release()

"""Small GL helpers: shader loading and textures that are refilled every frame.

Shaders live as files under `shaders/` so artists can edit them without
touching Python, and so a later hot reload only has to call `load_program`
again.
"""

from __future__ import annotations

import re
from pathlib import Path

import moderngl
import numpy as np

SHADER_DIR = Path(__file__).parent / "shaders"  # read at each load: a test may point it at a copy
_INCLUDE = re.compile(r'^\s*#include\s+"([^"]+)"\s*$', re.MULTILINE)
# every (vertex, fragment, defines) compiled so far: what a shader reload (engine.watch) must check
PROGRAMS: set[tuple[str, str, tuple[str, ...]]] = set()


def shader_source(name: str, shader_dir: Path | None = None) -> str:
    """Read a shader, expanding `#include "file"` lines (GLSL has no includes of its own)."""
    shader_dir = shader_dir or SHADER_DIR
    text = (shader_dir / name).read_text()
    return _INCLUDE.sub(lambda m: shader_source(m.group(1), shader_dir), text)


def load_program(
    ctx: moderngl.Context, vertex: str, fragment: str, defines: tuple[str, ...] = ()
) -> moderngl.Program:
    """Compile a program; `defines` select a variant (`#define NAME` after the #version line)."""
    PROGRAMS.add((vertex, fragment, tuple(defines)))
    frag = shader_source(fragment)
    if defines:
        version, _, rest = frag.partition("\n")
        frag = "\n".join([version, *(f"#define {d}" for d in defines), rest])
    return ctx.program(vertex_shader=shader_source(vertex), fragment_shader=frag)


def set_uniforms(prog: moderngl.Program, values: dict[str, object]) -> None:
    """Set the uniforms the compiler kept; it drops unused ones, which is not an error here."""
    for name, value in values.items():
        if name in prog:
            prog[name].value = value  # type: ignore[union-attr]


class StreamTexture:
    """A texture refilled every frame, re-created only when the incoming shape or type changes.

    Allocating a texture per frame would churn driver memory on a machine that
    runs for months; writing into the existing one costs only the upload.
    """

    def __init__(self, ctx: moderngl.Context, linear: bool = True) -> None:
        self.ctx = ctx
        self.linear = linear
        self.texture: moderngl.Texture | None = None
        self._key: tuple[int, int, int, str] | None = None

    def upload(self, array: np.ndarray) -> moderngl.Texture:
        """Upload an H×W or H×W×C uint8/float32 array; row 0 lands at texture coordinate t = 0."""
        if array.ndim == 2:
            array = array[:, :, None]
        h, w, comps = array.shape
        dtype = {np.dtype(np.uint8): "f1", np.dtype(np.float32): "f4"}.get(array.dtype)
        if dtype is None:
            array = array.astype(np.float32)
            dtype = "f4"
        key = (w, h, comps, dtype)
        if key != self._key or self.texture is None:
            self.release()
            self.texture = self.ctx.texture((w, h), comps, dtype=dtype, alignment=1)
            self.texture.repeat_x = self.texture.repeat_y = False
            f = moderngl.LINEAR if self.linear else moderngl.NEAREST
            self.texture.filter = (f, f)
            self._key = key
        self.texture.write(np.ascontiguousarray(array), alignment=1)
        return self.texture

    def release(self) -> None:
        if self.texture is not None:
            self.texture.release()
            self.texture = None
            self._key = None

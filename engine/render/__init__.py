"""The render stage: GL surfaces, the shader chain, overlays, readback and recording."""

from engine.render.chain import Renderer, cover_scale
from engine.render.context import HeadlessSurface, Surface, WindowSurface, open_surface
from engine.render.readback import read_rgb
from engine.render.recorder import Recorder
from engine.render.uniforms import UNIFORMS, defaults, resolve

__all__ = [
    "UNIFORMS",
    "HeadlessSurface",
    "Recorder",
    "Renderer",
    "Surface",
    "WindowSurface",
    "cover_scale",
    "defaults",
    "open_surface",
    "read_rgb",
    "resolve",
]

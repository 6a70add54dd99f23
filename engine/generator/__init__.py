"""The generator: a model folder run by ONNX Runtime, here or on a Triton server (`build_generator`).

ONNX Runtime's telemetry is switched off here, before any module of this package imports
onnxruntime (see telemetry.py): this file runs first whenever any of them is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.generator.telemetry import switch_off

if TYPE_CHECKING:
    from engine.config import Config
    from engine.generator.onnx_generator import OnnxGenerator
    from engine.generator.remote import TritonGenerator

switch_off()


def build_generator(cfg: Config) -> OnnxGenerator | TritonGenerator:
    """The generator the config asks for: in this process, or on the server [generator] remote names.

    Offline needs every frame, so there the server must answer at the start; realtime starts without
    it (black, with the note) and connects when it comes."""
    g = cfg.generator
    if g.remote:
        from engine.generator.remote import TritonGenerator

        return TritonGenerator(g.remote, cfg.run.model, g.inflight, g.timeout_s, wait=cfg.run.offline)
    from engine.generator.onnx_generator import OnnxGenerator

    return OnnxGenerator(cfg.run.model, provider=g.provider, threads=g.threads)

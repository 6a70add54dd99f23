"""Doctor checks of the networks the piece runs: the generator, each onnxruntime provider, TensorRT's
engine cache, and MediaPipe's bundled models.

Each is loaded and run for a frame, because the failures that matter are the ones a listing cannot
show: a model file truncated by a copy, a GPU provider that is listed but falls back to the CPU, a
cache folder TensorRT cannot write its engines to.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from engine.doctor.base import FAIL, OK, WARN, Check, first_line
from engine.doctor.resources import write_probe

if TYPE_CHECKING:
    from engine.config import Config


def check_model(cfg: Config) -> list[Check]:
    from engine.generator.manifest import ModelError
    from engine.generator.onnx_generator import OnnxGenerator

    try:
        gen = OnnxGenerator(cfg.run.model, provider=cfg.generator.provider, threads=cfg.generator.threads)
    except ModelError as e:
        return [Check("model", FAIL, str(e))]
    m = gen.manifest
    ms = min(gen.time_one(m.latent_mean[None]) for _ in range(3))
    level = OK if cfg.generator.provider in ("auto", gen.provider) else WARN
    detail = (
        f"{m.folder}: {m.latent_dim}-d {m.latent_space} → {m.channels}x{m.height}x{m.width}, "
        f"{ms:.1f} ms/frame on {gen.provider} (generator.provider = {cfg.generator.provider})"
    )
    return [Check("model", level, detail)]


def check_providers(cfg: Config) -> list[Check]:
    """One frame per provider this onnxruntime lists: a listed GPU provider can still fall back."""
    import onnxruntime as ort

    from engine.generator.manifest import load_manifest
    from engine.generator.onnx_generator import model_trt_cache
    from engine.generator.providers import NAMES, provider_list, session_options
    from engine.generator.telemetry import disable_events

    disable_events(ort)
    try:
        m = load_manifest(cfg.run.model)
        ort.InferenceSession(str(m.onnx), providers=["CPUExecutionProvider"])
    except Exception:  # noqa: BLE001 - ModelError, or onnxruntime's own types for a broken file
        return [Check("providers", WARN, "not tried: the model does not load (see model)")]
    listed = [short for short, name in NAMES.items() if name in ort.get_available_providers()]
    out = []
    for short in listed:
        name = NAMES[short]
        try:
            # TensorRT builds into the folder the generator will load from (keyed by GPU, version, model)
            opts = provider_list(short, model_trt_cache(m) if short == "tensorrt" else None)[0][1]
            session = ort.InferenceSession(
                str(m.onnx), session_options(cfg.generator.threads), providers=[name], provider_options=[opts]
            )
            feed = {m.input_name: m.latent_mean[None]}
            session.run([m.output_name], feed)  # the first run builds TensorRT's engine: not timed
            t0 = time.perf_counter()
            session.run([m.output_name], feed)
            ms = (time.perf_counter() - t0) * 1000
        except Exception as e:  # noqa: BLE001 - onnxruntime's own exception types
            out.append(Check(f"ort-{short}", WARN, f"listed but cannot run a frame: {first_line(e)}"))
            continue
        runs = session.get_providers()[0]
        if runs != name:
            out.append(Check(f"ort-{short}", WARN, f"listed but falls back to {runs} (driver, CUDA, cuDNN?)"))
        else:
            out.append(Check(f"ort-{short}", OK, f"runs a frame ({ms:.1f} ms)"))
    if not any(c.level == OK for c in out):
        out.append(Check("providers", FAIL, "no onnxruntime provider runs the generator"))
    return out


def check_tensorrt_cache(cfg: Config) -> list[Check]:
    import onnxruntime as ort

    from engine.generator.providers import cache_dir

    if "TensorrtExecutionProvider" not in ort.get_available_providers():
        return [Check("trt-cache", OK, "not needed: this onnxruntime has no TensorRT")]
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        problem = write_probe(folder)
    except OSError as e:
        problem = e.strerror or str(e)
    if problem:
        return [Check("trt-cache", FAIL, f"{folder}: cannot write TensorRT engines there ({problem})")]
    return [Check("trt-cache", OK, f"{folder} is writable")]


def check_mediapipe(cfg: Config) -> list[Check]:
    import numpy as np

    from engine.messages import Frame
    from engine.perception.tracker import Perceiver

    with Perceiver(cfg.perception) as p:
        p.process(Frame(np.zeros((cfg.camera.height, cfg.camera.width, 3), np.uint8), 0.0, 0, "doctor"))
    return [Check("mediapipe", OK, "its bundled models load and run a frame")]

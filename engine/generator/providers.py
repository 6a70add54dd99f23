"""Execution-provider choice: TensorRT (fp16, cached engines) → CUDA → CPU.

ONNX Runtime silently falls back to the CPU when a GPU provider fails to load,
so the choice is checked against `session.get_providers()` after the session
exists and the provider that really runs is what gets reported.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import onnxruntime as ort

from engine.generator.telemetry import disable_events

log = logging.getLogger(__name__)

NAMES = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
SHORT = {v: k for k, v in NAMES.items()}
CHOICES = ("auto", *NAMES)


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "latent-mirror" / "tensorrt"


def provider_list(choice: str = "auto") -> list[tuple[str, dict]]:
    """Providers with options to hand to InferenceSession, best first; CPU always last."""
    if choice not in CHOICES:
        raise ValueError(f"provider must be one of {', '.join(CHOICES)}, got '{choice}'")
    available = set(ort.get_available_providers())
    wanted = ["tensorrt", "cuda", "cpu"] if choice == "auto" else [choice]
    if choice != "cpu" and "cpu" not in wanted:
        wanted.append("cpu")
    out: list[tuple[str, dict]] = []
    for short in wanted:
        name = NAMES[short]
        if name not in available:
            if choice == short:
                log.warning("provider %s requested but this onnxruntime build lacks it", name)
            continue
        opts: dict = {}
        if short == "tensorrt":
            cache_dir().mkdir(parents=True, exist_ok=True)
            opts = {
                "trt_fp16_enable": True,
                "trt_engine_cache_enable": True,
                "trt_engine_cache_path": str(cache_dir()),
                "trt_timing_cache_enable": True,
                "trt_timing_cache_path": str(cache_dir()),
            }
        out.append((name, opts))
    return out


def session_options(threads: int) -> ort.SessionOptions:
    """Explicit thread counts so the generator shares the CPU fairly with perception."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = max(1, threads)
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return so


def create_session(path: Path, choice: str, threads: int) -> tuple[ort.InferenceSession, str]:
    """A session and the short name of the provider that actually runs it."""
    disable_events(ort)  # the environment switch did the real work at import; see telemetry.py
    providers = provider_list(choice)
    names = [p for p, _ in providers]
    session = ort.InferenceSession(
        str(path), session_options(threads), providers=names, provider_options=[o for _, o in providers]
    )
    actual = session.get_providers()[0]
    if actual != names[0]:
        log.warning("%s: asked for %s but onnxruntime runs %s (fell back)", path.name, names[0], actual)
    log.info("%s runs on %s (asked: %s)", path.name, actual, choice)
    return session, SHORT.get(actual, actual)

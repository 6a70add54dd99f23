"""Execution-provider choice: TensorRT (fp16, cached engines) → CUDA → CPU.

ONNX Runtime silently falls back to the CPU when a GPU provider fails to load,
so the choice is checked against `session.get_providers()` after the session
exists and the provider that really runs is what gets reported.

A TensorRT engine is only valid for the TensorRT version, GPU and shapes it was
built for; ONNX Runtime's own cache check does not cover a TensorRT upgrade, so
each engine lives in a folder named by all of them (`engine_key`) and a stale
engine is never even looked at. Explicit optimisation profiles (batch 1..4) let
one engine serve both batch sizes, so a batch change never rebuilds mid-show.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import logging
import os
import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
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
MAX_BATCH = 4  # the TensorRT profile's top: the bench's batch 4; the engine itself runs batch 1
UNKNOWN = "unknown"
NVIDIA_SMI = ("nvidia-smi", "--query-gpu=name,compute_cap", "--format=csv,noheader")


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "latent-mirror" / "tensorrt"


@dataclass(frozen=True)
class TrtShapes:
    """The generator's input and output as TensorRT's profile and the cache key need them."""

    input_name: str
    latent_dim: int
    height: int
    width: int
    max_batch: int = MAX_BATCH


@dataclass(frozen=True)
class TrtCache:
    """Where one model's engine lives on this machine, and whether one was there before this session."""

    folder: Path
    timing: Path
    shapes: TrtShapes
    had_engine: bool


def slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9.]+", "-", text.strip().lower()).strip("-.")
    return s or UNKNOWN


def parse_nvidia_smi(text: str) -> tuple[str, str]:
    """(GPU name, 'sm90') from the first line of `nvidia-smi --query-gpu=name,compute_cap` CSV."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if not lines or "," not in lines[0]:
        return UNKNOWN, UNKNOWN
    name, _, cap = lines[0].rpartition(",")
    m = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", cap)
    return (name.strip() or UNKNOWN), (f"sm{m[1]}{m[2]}" if m else UNKNOWN)


def gpu_identity(command: tuple[str, ...] = NVIDIA_SMI, timeout: float = 5.0) -> tuple[str, str]:
    """(name, compute capability) of GPU 0; ('unknown', 'unknown') when nvidia-smi cannot say."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    except (OSError, subprocess.SubprocessError) as e:
        log.info("nvidia-smi gave no GPU identity (%s): the TensorRT cache key says 'unknown'", e)
        return UNKNOWN, UNKNOWN
    return parse_nvidia_smi(done.stdout)


def trt_version_from_build_info(text: str) -> str | None:
    m = re.search(r"tensorrt[\w-]*?(?:version)?\s*[=:]\s*v?(\d+(?:\.\d+)+)", text, re.IGNORECASE)
    return m[1] if m else None


def tensorrt_version() -> str:
    """The TensorRT that will build the engine: its module, its wheel, ORT's build info, or 'unknown'."""
    try:
        return str(importlib.import_module("tensorrt").__version__)
    except Exception:  # noqa: BLE001 - a missing module or libraries that fail to load
        pass
    for dist in ("tensorrt-cu12-libs", "tensorrt-cu13-libs", "tensorrt-libs", "tensorrt-cu12", "tensorrt"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return trt_version_from_build_info(ort.get_build_info()) or UNKNOWN


@lru_cache(maxsize=16)
def _sha1(path: Path, size: int, mtime_ns: int) -> str:
    h = hashlib.sha1()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_sha1(path: Path) -> str:
    st = path.stat()
    return _sha1(path.resolve(), st.st_size, st.st_mtime_ns)


def device_key(trt_version: str, gpu_name: str, compute: str) -> str:
    return f"trt{slug(trt_version)}-{slug(gpu_name)}-{slug(compute)}"


def engine_key(trt_version: str, gpu_name: str, compute: str, model_sha1: str, shapes: TrtShapes) -> str:
    """e.g. trt10.9.0-nvidia-h200-sm90-0123456789ab-b1-4-256x256: change any part, get a fresh build."""
    return (
        f"{device_key(trt_version, gpu_name, compute)}-{model_sha1[:12]}"
        f"-b1-{shapes.max_batch}-{shapes.width}x{shapes.height}"
    )


def profile_options(shapes: TrtShapes) -> dict[str, str]:
    """TensorRT optimisation profile for the dynamic batch: 1..max, tuned for 1 (the live loop)."""
    n, d = shapes.input_name, shapes.latent_dim
    return {
        "trt_profile_min_shapes": f"{n}:1x{d}",
        "trt_profile_opt_shapes": f"{n}:1x{d}",
        "trt_profile_max_shapes": f"{n}:{shapes.max_batch}x{d}",
    }


def tensorrt_options(cache: TrtCache | None) -> dict:
    folder, timing = (cache.folder, cache.timing) if cache else (cache_dir(), cache_dir())
    folder.mkdir(parents=True, exist_ok=True)
    timing.mkdir(parents=True, exist_ok=True)
    opts = {
        "trt_fp16_enable": True,
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(folder),
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": str(timing),
    }
    return {**opts, **profile_options(cache.shapes)} if cache else opts


def has_engine(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("*.engine"))


def trt_cache(model: Path, shapes: TrtShapes, root: Path | None = None) -> TrtCache:
    """This model's keyed engine folder (the GPU and TensorRT asked once per call: cheap next to a build)."""
    root = root or cache_dir()
    name, compute = gpu_identity()
    version = tensorrt_version()
    folder = root / engine_key(version, name, compute, file_sha1(model), shapes)
    timing = root / f"{device_key(version, name, compute)}-timing"  # kernel timings: shared across models
    return TrtCache(folder, timing, shapes, has_engine(folder))


def wants_tensorrt(choice: str) -> bool:
    return choice in ("auto", "tensorrt") and NAMES["tensorrt"] in ort.get_available_providers()


def provider_list(choice: str = "auto", trt: TrtCache | None = None) -> list[tuple[str, dict]]:
    """Providers with options to hand to InferenceSession, best first; CPU always last.

    Without `trt` (a caller that has no model shapes) TensorRT gets the unkeyed cache folder."""
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
        out.append((name, tensorrt_options(trt) if short == "tensorrt" else {}))
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


@lru_cache(maxsize=1)
def preload_gpu_libraries() -> None:
    """CUDA/cuDNN from the nvidia-* wheels, TensorRT from its wheel: loaded once, before ORT looks.

    ORT finds libnvinfer by soname; importing `tensorrt` has already loaded it from the wheel, which
    LD_LIBRARY_PATH would otherwise have to name. Best effort: what fails, ORT reports (and falls back)."""
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None:
        try:
            preload()
        except Exception as e:  # noqa: BLE001 - ORT's own loader errors
            log.info("onnxruntime.preload_dlls: %s", e)
    try:
        importlib.import_module("tensorrt")
    except Exception as e:  # noqa: BLE001 - missing module or libraries
        log.info("tensorrt module not loaded (%s): ORT must find libnvinfer itself", e)


def create_session(
    path: Path, choice: str, threads: int, trt: TrtCache | None = None
) -> tuple[ort.InferenceSession, str]:
    """A session and the short name of the provider that actually runs it."""
    disable_events(ort)  # the environment switch did the real work at import; see telemetry.py
    providers = provider_list(choice, trt)
    names = [p for p, _ in providers]
    if names[0] != NAMES["cpu"]:
        preload_gpu_libraries()
    if trt is not None and names[0] == NAMES["tensorrt"]:
        state = "loading the cached engine" if trt.had_engine else "no engine yet: building it now"
        log.info("TensorRT engine cache %s (%s)", trt.folder, state)
    session = ort.InferenceSession(
        str(path), session_options(threads), providers=names, provider_options=[o for _, o in providers]
    )
    actual = session.get_providers()[0]
    if actual != names[0]:
        log.warning("%s: asked for %s but onnxruntime runs %s (fell back)", path.name, names[0], actual)
    log.info("%s runs on %s (asked: %s)", path.name, actual, choice)
    return session, SHORT.get(actual, actual)

"""The generator contract: a folder with `generator.onnx` and `manifest.json`.

Anyone's generator exported to this contract runs in the engine, so the
manifest is validated strictly at load time and every error is one line that
names the file and the key or shape that is wrong.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MANIFEST_FORMAT = "latent-mirror/generator@1"
# Directions are pushed along in units of σ and latents are projected onto them, so a direction that
# is not of unit length silently scales both. float32 rounding leaves ~5e-7; a hand edit far more.
UNIT_TOLERANCE = 1e-3
STYLE_NAME = re.compile(r"[a-z0-9_]{1,64}")  # becomes an OSC address (/style/<name>) and a parameter name


class ModelError(ValueError):
    """A model folder that does not meet the contract; the message names file and problem."""


@dataclass(frozen=True)
class Sampler:
    """How to draw a random latent: N(0, I) directly, or z ~ N(0, I) through a mapping network."""

    kind: str  # "normal" | "mapping"
    onnx: Path | None = None  # mapping network file, kind == "mapping"
    input_dim: int = 0  # size of the mapping network's input: noise, then style_dim style weights
    input_name: str = "z"
    output_name: str = "w"
    truncation: float = 1.0  # pull sampled w toward the mean: quality over variety
    style_dim: int = 0  # the last style_dim inputs are style weights (a class-conditional model)


@dataclass(frozen=True)
class Manifest:
    folder: Path
    name: str
    onnx: Path
    input_name: str
    latent_dim: int
    output_name: str
    channels: int
    height: int
    width: int
    output_range: tuple[float, float]
    latent_space: str  # "w" (lerp is natural) or "z" (slerp is natural)
    latent_mean: np.ndarray  # [D]
    sampler: Sampler
    directions: np.ndarray  # [K, D] unit vectors
    sigma: np.ndarray  # [K] spread of sampled latents along each direction
    license: str
    training_data: str
    styles: tuple[str, ...] = ()  # a class-conditional model's styles, in the order of its weights
    style_means: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  # [S, D] in w


def _get(d: dict, key: str, kind: type | tuple[type, ...], where: str, path: Path):
    if not isinstance(d, dict) or key not in d:
        raise ModelError(f"{path}: missing key '{where}{key}'")
    value = d[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ModelError(f"{path}: key '{where}{key}' must be {names}, got {type(value).__name__}")
    return value


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _numbers(value: object, key: str, what: str, path: Path, width: int = 0) -> np.ndarray:
    """A JSON list of finite numbers (with `width`: a list of such lists, each that long) as float32.

    numpy would take "0.5" and NaN without a word and fail on "x" or ragged rows with an error naming
    neither file nor key, so every element is checked here first."""
    rows = value if width and isinstance(value, list) else [value]
    ok = all(isinstance(r, list) and all(_is_number(v) for v in r) for r in rows)
    if not ok or width and any(len(r) != width for r in rows):
        raise ModelError(f"{path}: key '{key}' must be {what}")
    return np.asarray(value, np.float32).reshape(-1, width) if width else np.asarray(value, np.float32)


def _truncation(d: dict, path: Path) -> float:
    trunc = d.get("truncation", 1.0)
    if not _is_number(trunc):
        raise ModelError(f"{path}: key 'latent.sampler.truncation' must be a number, got {trunc!r}")
    if not 0.0 < trunc <= 1.0:
        raise ModelError(f"{path}: key 'latent.sampler.truncation' must be in (0, 1], got {trunc}")
    return float(trunc)


def _positive(value: int, key: str, path: Path) -> int:
    if value <= 0:
        raise ModelError(f"{path}: key '{key}' must be a positive integer, got {value}")
    return value


def load_manifest(folder: str | Path) -> Manifest:
    folder = Path(folder)
    path = folder / "manifest.json"
    if not folder.is_dir():
        raise ModelError(f"{folder}: model folder not found")
    if not path.is_file():
        raise ModelError(f"{path}: file not found (a model folder needs manifest.json and generator.onnx)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ModelError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except UnicodeDecodeError:
        raise ModelError(f"{path}: not UTF-8 text") from None
    if not isinstance(raw, dict):
        raise ModelError(f"{path}: top level must be a JSON object")
    fmt = _get(raw, "format", str, "", path)
    if fmt != MANIFEST_FORMAT:
        raise ModelError(f"{path}: key 'format' is '{fmt}', this engine reads '{MANIFEST_FORMAT}'")
    onnx = folder / _get(raw, "onnx", str, "", path)
    if not onnx.is_file():
        raise ModelError(f"{onnx}: file not found (named by {path} key 'onnx')")
    inp = _get(raw, "input", dict, "", path)
    out = _get(raw, "output", dict, "", path)
    dim = _positive(_get(inp, "dim", int, "input.", path), "input.dim", path)
    channels = _get(out, "channels", int, "output.", path)
    if channels != 3:
        raise ModelError(f"{path}: key 'output.channels' must be 3 (RGB), got {channels}")
    height = _positive(_get(out, "height", int, "output.", path), "output.height", path)
    width = _positive(_get(out, "width", int, "output.", path), "output.width", path)
    layout = _get(out, "layout", str, "output.", path)
    if layout != "NCHW":
        raise ModelError(f"{path}: key 'output.layout' must be 'NCHW', got '{layout}'")
    rng = _get(out, "range", list, "output.", path)
    if len(rng) != 2 or not all(_is_number(v) for v in rng) or rng[0] >= rng[1]:
        raise ModelError(f"{path}: key 'output.range' must be [low, high] with low < high, got {rng}")
    latent = _get(raw, "latent", dict, "", path)
    space = _get(latent, "space", str, "latent.", path)
    if space not in ("w", "z"):
        raise ModelError(f"{path}: key 'latent.space' must be 'w' or 'z', got '{space}'")
    mean = _numbers(latent.get("mean", [0.0] * dim), "latent.mean", f"a list of {dim} finite numbers", path)
    if mean.shape != (dim,):
        raise ModelError(f"{path}: key 'latent.mean' has {mean.size} values, input.dim is {dim}")
    sampler = _load_sampler(_get(latent, "sampler", dict, "latent.", path), folder, path)
    directions, sigma = _load_directions(raw.get("directions"), dim, path)
    styles, style_means = _load_styles(raw.get("styles"), dim, path)
    if styles and sampler.kind != "mapping":
        raise ModelError(f"{path}: key 'styles' needs key 'latent.sampler.kind' 'mapping' (their input)")
    if sampler.style_dim != len(styles):
        raise ModelError(
            f"{path}: key 'latent.sampler.style_dim' is {sampler.style_dim}, "
            f"key 'styles' lists {len(styles)} styles"
        )
    return Manifest(
        folder=folder,
        name=str(raw.get("name", folder.name)),
        onnx=onnx,
        input_name=str(inp.get("name", "latent")),
        latent_dim=dim,
        output_name=str(out.get("name", "image")),
        channels=channels,
        height=height,
        width=width,
        output_range=(float(rng[0]), float(rng[1])),
        latent_space=space,
        latent_mean=mean,
        sampler=sampler,
        directions=directions,
        sigma=sigma,
        license=str(raw.get("license", "unknown")),
        training_data=str(raw.get("training_data", "unknown")),
        styles=styles,
        style_means=style_means,
    )


def _load_sampler(d: dict, folder: Path, path: Path) -> Sampler:
    kind = _get(d, "kind", str, "latent.sampler.", path)
    if kind == "normal":
        return Sampler("normal", truncation=_truncation(d, path))
    if kind != "mapping":
        raise ModelError(f"{path}: key 'latent.sampler.kind' must be 'normal' or 'mapping', got '{kind}'")
    onnx = folder / _get(d, "onnx", str, "latent.sampler.", path)
    if not onnx.is_file():
        raise ModelError(f"{onnx}: file not found (named by {path} key 'latent.sampler.onnx')")
    zdim = _positive(_get(d, "input_dim", int, "latent.sampler.", path), "latent.sampler.input_dim", path)
    trunc = _truncation(d, path)
    style_dim = _get(d, "style_dim", int, "latent.sampler.", path) if "style_dim" in d else 0
    if not 0 <= style_dim < zdim:
        raise ModelError(
            f"{path}: key 'latent.sampler.style_dim' must be 0..input_dim-1 ({zdim - 1}): "
            f"the input is noise then style weights, got {style_dim}"
        )
    return Sampler(
        "mapping",
        onnx,
        zdim,
        str(d.get("input_name", "z")),
        str(d.get("output_name", "w")),
        trunc,
        style_dim,
    )


def _load_styles(d: object, dim: int, path: Path) -> tuple[tuple[str, ...], np.ndarray]:
    """`styles`: [{"name": ..., "mean": [dim numbers]}, ...], names unique and usable as addresses."""
    if d is None:
        return (), np.zeros((0, dim), np.float32)
    if not isinstance(d, list) or not d:
        raise ModelError(f"{path}: key 'styles' must be a non-empty list of {{'name', 'mean'}} objects")
    names: list[str] = []
    means = []
    for i, s in enumerate(d):
        where = f"styles[{i}]."
        name = _get(s, "name", str, where, path)
        if not STYLE_NAME.fullmatch(name):
            raise ModelError(f"{path}: key '{where}name' = {name!r} must be 1-64 of a-z, 0-9, '_'")
        if name in names:
            raise ModelError(f"{path}: key '{where}name' = '{name}' is already the name of another style")
        names.append(name)
        mean = _numbers(_get(s, "mean", list, where, path), f"{where}mean", "a list of finite numbers", path)
        if mean.shape != (dim,):
            raise ModelError(f"{path}: key '{where}mean' has {mean.size} values, input.dim is {dim}")
        means.append(mean)
    return tuple(names), np.stack(means).astype(np.float32)


def _load_directions(d: object, dim: int, path: Path) -> tuple[np.ndarray, np.ndarray]:
    if d is None:
        return np.zeros((0, dim), np.float32), np.zeros(0, np.float32)
    if not isinstance(d, dict):
        raise ModelError(f"{path}: key 'directions' must be an object with 'vectors' and 'sigma'")
    what = f"a list of {dim}-value lists of finite numbers"
    vectors = _numbers(d.get("vectors", []), "directions.vectors", what, path, width=dim)
    sigma = _numbers(d.get("sigma", []), "directions.sigma", "a list of finite numbers", path)
    count = vectors.shape[0]
    if sigma.shape != (count,):
        raise ModelError(f"{path}: key 'directions.sigma' has {sigma.size} values for {count} vectors")
    if np.any(sigma < 0):
        raise ModelError(f"{path}: key 'directions.sigma' must not be negative, got {float(sigma.min()):g}")
    lengths = np.linalg.norm(vectors.astype(np.float64), axis=1)
    for i, n in enumerate(lengths):
        if abs(n - 1.0) > UNIT_TOLERANCE:
            raise ModelError(
                f"{path}: key 'directions.vectors' row {i} has length {n:.3f}, must be a unit vector"
            )
    return vectors, sigma

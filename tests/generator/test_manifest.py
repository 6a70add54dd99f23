"""Model folders that break the contract fail at load time with one line naming file and problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.generator.manifest import UNIT_TOLERANCE, ModelError, load_manifest
from engine.generator.onnx_generator import OnnxGenerator


@pytest.fixture()
def model_copy(tmp_path: Path, shipped_model: Path) -> Path:
    dst = tmp_path / "model"
    shutil.copytree(shipped_model, dst, ignore=shutil.ignore_patterns("samples.png", "README.md"))
    return dst


def edit(folder: Path, fn) -> None:
    path = folder / "manifest.json"
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_shipped_manifest_loads(shipped_model: Path) -> None:
    m = load_manifest(shipped_model)
    assert m.width >= 256 and m.height >= 256
    assert m.directions.shape[0] >= 8 and m.directions.shape[1] == m.latent_dim
    assert (m.sigma > 0).all()


def test_missing_manifest(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    with pytest.raises(ModelError) as e:
        load_manifest(tmp_path / "m")
    assert "manifest.json" in one_line(e) and "not found" in str(e.value)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="model folder not found"):
        load_manifest(tmp_path / "nope")


def test_missing_onnx(model_copy: Path) -> None:
    (model_copy / "generator.onnx").unlink()
    with pytest.raises(ModelError) as e:
        load_manifest(model_copy)
    assert "generator.onnx" in one_line(e) and "not found" in str(e.value)


def test_bad_json(model_copy: Path) -> None:
    (model_copy / "manifest.json").write_text('{"format": "latent-mirror/generator@1",\n "onnx": }')
    with pytest.raises(ModelError) as e:
        load_manifest(model_copy)
    assert "manifest.json" in one_line(e) and "invalid JSON at line 2" in str(e.value)


def test_missing_key_named(model_copy: Path) -> None:
    edit(model_copy, lambda d: d["output"].pop("height"))
    with pytest.raises(ModelError, match=r"missing key 'output.height'"):
        load_manifest(model_copy)


def test_wrong_type_named(model_copy: Path) -> None:
    edit(model_copy, lambda d: d["input"].__setitem__("dim", "256"))
    with pytest.raises(ModelError, match=r"key 'input.dim' must be int"):
        load_manifest(model_copy)


def test_latent_dim_mismatch_with_onnx(model_copy: Path) -> None:
    def shrink(d: dict) -> None:
        d["input"]["dim"] = 64
        d["latent"]["mean"] = [0.0] * 64
        d.pop("directions")

    edit(model_copy, shrink)
    with pytest.raises(ModelError) as e:
        OnnxGenerator(model_copy, provider="cpu")
    msg = one_line(e)
    assert "generator.onnx" in msg and "input 'latent'" in msg and "64" in msg


def test_output_shape_mismatch(model_copy: Path) -> None:
    edit(model_copy, lambda d: d["output"].__setitem__("height", 512))
    with pytest.raises(ModelError) as e:
        OnnxGenerator(model_copy, provider="cpu")
    msg = one_line(e)
    assert "generator.onnx" in msg and "512" in msg


def test_not_an_onnx_file(model_copy: Path) -> None:
    (model_copy / "generator.onnx").write_bytes(b"this is not a model")
    with pytest.raises(ModelError) as e:
        OnnxGenerator(model_copy, provider="cpu")
    assert "generator.onnx" in one_line(e) and "cannot be loaded" in str(e.value)


def test_directions_count_mismatch(model_copy: Path) -> None:
    edit(model_copy, lambda d: d["directions"]["sigma"].pop())
    with pytest.raises(ModelError, match=r"directions.sigma"):
        load_manifest(model_copy)


def _set(*keys_and_value):
    """An edit that sets data[k0][k1]...[kn] = value (the last argument)."""
    *keys, value = keys_and_value

    def fn(d: dict) -> None:
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value(d[keys[-1]]) if callable(value) else value

    return fn


def _scaled_row(rows: list, i: int, by: float) -> list:
    return [[v * by for v in r] if j == i else r for j, r in enumerate(rows)]


# Every bad manifest is one ModelError line naming the file and the key (never numpy's or float()'s error).
BAD_MANIFESTS = {
    "format_version": (_set("format", "latent-mirror/generator@2"), "key 'format' is 'latent-mirror/"),
    "channels": (_set("output", "channels", 4), "key 'output.channels' must be 3"),
    "layout": (_set("output", "layout", "NHWC"), "key 'output.layout' must be 'NCHW'"),
    "range_nan": (_set("output", "range", [float("nan"), 1.0]), "key 'output.range' must be [low, high]"),
    "latent_space": (_set("latent", "space", "x"), "key 'latent.space' must be 'w' or 'z'"),
    "mean_word": (_set("latent", "mean", lambda m: [*m[:-1], "x"]), "key 'latent.mean' must be a list of"),
    "mean_numeric_strings": (_set("latent", "mean", lambda m: [str(v) for v in m]), "key 'latent.mean'"),
    "mean_nan": (_set("latent", "mean", lambda m: [float("nan"), *m[1:]]), "key 'latent.mean' must be"),
    "sampler_kind": (_set("latent", "sampler", "kind", "uniform"), "key 'latent.sampler.kind' must be"),
    "truncation_string": (
        _set("latent", "sampler", "truncation", "abc"),
        "key 'latent.sampler.truncation' must be a number, got 'abc'",
    ),
    "truncation_range": (_set("latent", "sampler", "truncation", 1.5), "must be in (0, 1], got 1.5"),
    "normal_truncation_zero": (
        _set("latent", "sampler", lambda s: {"kind": "normal", "truncation": 0}),
        "key 'latent.sampler.truncation' must be in (0, 1], got 0",
    ),
    "direction_inf": (
        _set("directions", "vectors", lambda v: [[float("inf"), *v[0][1:]], *v[1:]]),
        "key 'directions.vectors' must be",
    ),
    "direction_not_unit": (
        _set("directions", "vectors", lambda v: _scaled_row(v, 2, 1.01)),
        "key 'directions.vectors' row 2 has length 1.010, must be a unit vector",
    ),
    "direction_word": (
        _set("directions", "vectors", lambda v: [["up"] * len(v[0]), *v[1:]]),
        "key 'directions.vectors' must be",
    ),
    "direction_short_row": (
        _set("directions", "vectors", lambda v: [v[0][:-1], *v[1:]]),
        "key 'directions.vectors' must be a list of 256-value lists",
    ),
    "sigma_negative": (_set("directions", "sigma", lambda s: [-1.0, *s[1:]]), "key 'directions.sigma'"),
    "sigma_nan": (_set("directions", "sigma", lambda s: [float("nan"), *s[1:]]), "key 'directions.sigma'"),
}


@pytest.mark.parametrize("case", BAD_MANIFESTS)
def test_bad_manifest_is_one_line_naming_file_and_key(model_copy: Path, case: str) -> None:
    change, needle = BAD_MANIFESTS[case]
    edit(model_copy, change)
    with pytest.raises(ModelError) as e:
        load_manifest(model_copy)
    msg = one_line(e)
    assert msg.startswith(f"{model_copy / 'manifest.json'}: ") and needle in msg, msg


def test_shipped_directions_are_unit_vectors_well_within_the_tolerance(shipped_model: Path) -> None:
    m = load_manifest(shipped_model)
    err = float(np.abs(np.linalg.norm(m.directions.astype(np.float64), axis=1) - 1.0).max())
    assert err < UNIT_TOLERANCE / 100, err  # measured 4.8e-7: float32 rounding only

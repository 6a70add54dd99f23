"""Model folders that break the contract fail at load time with one line naming file and problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.generator.manifest import ModelError, load_manifest
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

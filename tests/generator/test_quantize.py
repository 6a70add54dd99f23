"""models.quantize: the int8 copy is a model folder of the same contract, close to fp32 in a still,
and (the reason it is not shipped) it shimmers where fp32 glides."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from engine.generator.manifest import ModelError, load_manifest
from engine.generator.onnx_generator import OnnxGenerator
from models.quantize import calibration_latents, compare, main, motion_steps, quantize, quantized_nodes

CALIBRATION = 8  # the tool's 64 take longer; 8 give a little more error, the same shimmer
# Measured on the 8 seed-1 latents of `compare`, in output units ([-1, 1]): mean 0.029, p99 0.18 at
# calibration 8 (0.025, 0.13 at 64). The bounds leave margin for that, not for a broken model.
MEAN_TOLERANCE = 0.04
P99_TOLERANCE = 0.25


@pytest.fixture(scope="module")
def fp32(shipped_model: Path) -> OnnxGenerator:
    return OnnxGenerator(shipped_model, provider="cpu", threads=1)


@pytest.fixture(scope="module")
def int8_dir(tmp_path_factory: pytest.TempPathFactory, shipped_model: Path) -> Path:
    return quantize(shipped_model, tmp_path_factory.mktemp("int8") / "model", CALIBRATION)


@pytest.fixture(scope="module")
def int8(int8_dir: Path) -> OnnxGenerator:
    return OnnxGenerator(int8_dir, provider="cpu", threads=1)


def test_calibration_has_samples_mean_and_both_ends_of_every_direction(fp32: OnnxGenerator) -> None:
    m = fp32.manifest
    x = calibration_latents(fp32, 5, seed=0)
    assert x.shape == (5 + 1 + 2 * len(m.sigma), m.latent_dim) and x.dtype == np.float32
    np.testing.assert_array_equal(x[5], m.latent_mean)
    np.testing.assert_allclose(x[6] - x[7], 6.0 * m.sigma[0] * m.directions[0], atol=1e-5)
    np.testing.assert_array_equal(x, calibration_latents(fp32, 5, seed=0))  # seeded: same file again


def test_the_4x4_convs_and_torgb_stay_fp32(shipped_model: Path) -> None:
    model = onnx.shape_inference.infer_shapes(onnx.load(str(shipped_model / "generator.onnx")))
    names = quantized_nodes(model)
    convs = [n for n in names if n.endswith("/Conv")]
    assert convs and not any("blocks.0." in n or "torgbs" in n for n in convs), convs
    assert "/module/blocks.1.0/conv/Conv" in convs and "/module/blocks.6.0/conv/Conv" in convs
    assert "/module/input_fc/Gemm" in names


@pytest.mark.slow
def test_int8_folder_meets_the_contract(int8_dir: Path, int8: OnnxGenerator, shipped_model: Path) -> None:
    m = load_manifest(int8_dir)
    assert m.name == "painterly-int8" and (int8_dir / "mapping.onnx").is_file()
    assert m.onnx.stat().st_size < 10e6 < (shipped_model / "generator.onnx").stat().st_size
    types = {n.op_type for n in onnx.load(str(m.onnx)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= types
    assert int8.provider == "cpu" and int8.generate(int8.mean_latent()[None]).shape == (1, 3, 256, 256)


@pytest.mark.slow
def test_int8_still_is_close_to_fp32_but_not_equal(fp32: OnnxGenerator, int8: OnnxGenerator) -> None:
    stats, top, bottom = compare(fp32, int8)
    assert 1e-3 < stats["mean"] < MEAN_TOLERANCE, stats
    assert stats["p99"] < P99_TOLERANCE, stats
    assert top.shape == bottom.shape == (8, 256, 256, 3)


@pytest.mark.slow
def test_int8_shimmers_where_fp32_glides(fp32: OnnxGenerator, int8: OnnxGenerator) -> None:
    """The measured reason int8 is not shipped: a slow drift changes fp32 a little per frame, while
    int8 redraws its rounding grain on every frame (measured 0.0008 vs 0.0138 at 0.004 sigma/frame).
    If this fails, a better quantization may have fixed it: measure again, and ship it if so."""
    steps = motion_steps(fp32, int8)
    slow_fp32, slow_int8 = steps[0.004]
    assert slow_fp32 < 0.003 and slow_int8 > 4 * slow_fp32, steps
    assert steps[0.1][0] > 2 * slow_fp32  # fp32 follows the speed: the path really moves


@pytest.mark.slow
def test_same_seed_same_bytes(int8_dir: Path, shipped_model: Path, tmp_path: Path) -> None:
    again = quantize(shipped_model, tmp_path / "again", CALIBRATION)
    assert (again / "generator.onnx").read_bytes() == (int8_dir / "generator.onnx").read_bytes()


def test_bad_arguments_are_one_line_errors(shipped_model: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(ValueError, match="--calibration must be at least 1"):
        quantize(shipped_model, tmp_path / "x", 0)
    copy = tmp_path / "copy"
    shutil.copytree(shipped_model, copy, ignore=shutil.ignore_patterns("*.png", "README.md"))
    with pytest.raises(ModelError, match="is the source model folder"):
        quantize(copy, copy, 1)
    raw = json.loads((copy / "manifest.json").read_text())
    assert "int8" not in raw["name"]  # the source manifest is never touched
    assert main(["--model", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 1
    assert "model folder not found" in capsys.readouterr().out

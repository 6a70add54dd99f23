"""GPU providers (skipped without onnxruntime-gpu): they really run, and agree with the CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from engine.generator.onnx_generator import OnnxGenerator

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def reference(shipped_model: Path) -> tuple[np.ndarray, np.ndarray]:
    cpu = OnnxGenerator(shipped_model, provider="cpu", threads=2)
    lat = cpu.sample_latents(4, np.random.default_rng(0))
    return lat, cpu.generate(lat)


def test_cuda_runs_with_io_binding(shipped_model: Path, reference) -> None:
    gen = OnnxGenerator(shipped_model, provider="cuda")
    assert gen.provider == "cuda" and gen.session.get_providers()[0] == "CUDAExecutionProvider"
    lat, ref = reference
    np.testing.assert_allclose(gen.generate(lat), ref, atol=2e-3)


def test_tensorrt_fp16_close_to_cpu(shipped_model: Path, reference) -> None:
    if "TensorrtExecutionProvider" not in ort.get_available_providers():
        pytest.skip("onnxruntime-gpu without TensorRT")
    gen = OnnxGenerator(shipped_model, provider="tensorrt")
    assert gen.provider == "tensorrt"
    lat, ref = reference
    assert np.abs(gen.generate(lat) - ref).mean() < 0.02  # fp16

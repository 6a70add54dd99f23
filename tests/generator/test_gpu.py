"""GPU providers (skipped without onnxruntime-gpu): they really run, agree with the CPU, and cache engines."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from engine.generator import providers
from engine.generator.onnx_generator import OnnxGenerator

pytestmark = pytest.mark.gpu


def needs_tensorrt() -> None:
    if "TensorrtExecutionProvider" not in ort.get_available_providers():
        pytest.skip("onnxruntime-gpu without TensorRT")


@pytest.fixture(scope="module")
def reference(shipped_model: Path) -> tuple[np.ndarray, np.ndarray]:
    cpu = OnnxGenerator(shipped_model, provider="cpu", threads=2)
    lat = cpu.sample_latents(4, np.random.default_rng(0))
    return lat, cpu.generate(lat)


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory: pytest.TempPathFactory):
    """One TensorRT cache root for this module: its timing cache makes the later builds quicker."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))
        yield providers.cache_dir()


@pytest.fixture
def fresh_cache(cache_root: Path) -> Path:
    """No engine in the cache (the shared kernel timings stay), so the next session must build."""
    if cache_root.is_dir():
        for folder in cache_root.iterdir():
            if folder.is_dir() and not folder.name.endswith("-timing"):
                shutil.rmtree(folder)
    return cache_root


def test_cuda_runs_with_io_binding(shipped_model: Path, reference) -> None:
    gen = OnnxGenerator(shipped_model, provider="cuda")
    assert gen.provider == "cuda" and gen.session.get_providers()[0] == "CUDAExecutionProvider"
    assert gen._binding is not None  # the GPU path binds its output on the device
    lat, ref = reference
    out = gen.generate(lat)
    # fp32, though cuDNN may pick TF32 convolutions on Ampere and later: small but not bitwise
    assert np.abs(out - ref).mean() < 1e-3 and np.abs(out - ref).max() < 0.02


def test_tensorrt_fp16_close_to_cpu(shipped_model: Path, reference, cache_root: Path) -> None:
    needs_tensorrt()
    gen = OnnxGenerator(shipped_model, provider="tensorrt")
    assert gen.provider == "tensorrt" and gen._binding is not None
    lat, ref = reference
    out = gen.generate(lat)  # batch 4, through IO binding
    assert out.shape == ref.shape
    assert np.abs(out - ref).mean() < 0.02  # fp16
    assert np.abs(gen.generate(lat[:1]) - ref[:1]).mean() < 0.02


def test_tensorrt_engine_cached_in_keyed_folder_and_loaded_faster(
    shipped_model: Path, fresh_cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    needs_tensorrt()
    caplog.set_level(logging.INFO, logger="engine.generator")
    t = time.perf_counter()
    first = OnnxGenerator(shipped_model, provider="tensorrt", warmup=1)
    built_s = time.perf_counter() - t
    assert first.provider == "tensorrt"
    folders = [f for f in fresh_cache.iterdir() if f.is_dir() and not f.name.endswith("-timing")]
    assert len(folders) == 1, [f.name for f in fresh_cache.iterdir()]
    folder = folders[0]
    name, compute = providers.gpu_identity()
    assert folder.name.startswith(f"trt{providers.slug(providers.tensorrt_version())}-")
    assert providers.slug(name) in folder.name and compute in folder.name and compute != "unknown"
    assert folder.name.endswith("-b1-4-256x256")
    engines = sorted(folder.glob("*.engine"))
    assert engines, f"no engine written in {folder}: {[p.name for p in folder.iterdir()]}"
    assert "engine built" in caplog.text
    del first
    caplog.clear()
    t = time.perf_counter()
    second = OnnxGenerator(shipped_model, provider="tensorrt", warmup=1)
    loaded_s = time.perf_counter() - t
    assert second.provider == "tensorrt" and "engine loaded" in caplog.text
    assert loaded_s < built_s, f"loading the cached engine took {loaded_s:.2f} s, building {built_s:.2f} s"
    # batch 1 and 4 share the one engine (the profile covers 1..4): nothing was rebuilt
    second.generate(second.sample_latents(4, np.random.default_rng(1)))
    assert sorted(folder.glob("*.engine")) == engines


def test_tensorrt_batch_4_runs_and_matches_batch_1(shipped_model: Path, cache_root: Path) -> None:
    needs_tensorrt()
    gen = OnnxGenerator(shipped_model, provider="tensorrt", warmup=1)
    lat = gen.sample_latents(4, np.random.default_rng(2))
    four = gen.generate(lat)
    assert four.shape == (4, 3, 256, 256) and np.isfinite(four).all()
    one = np.concatenate([gen.generate(lat[i : i + 1]) for i in range(4)])
    assert np.abs(four - one).mean() < 0.01  # one engine, two batch sizes: fp16 tactics may differ


def test_io_binding_matches_plain_run_on_the_gpu(shipped_model: Path) -> None:
    """IO binding changes where tensors live, never the numbers."""
    gen = OnnxGenerator(shipped_model, provider="cuda", warmup=1)
    lat = gen.sample_latents(2, np.random.default_rng(4))
    m = gen.manifest
    plain = gen.session.run([m.output_name], {m.input_name: lat})[0]
    np.testing.assert_allclose(gen.generate(lat), plain, atol=1e-5)


def test_the_doctor_builds_the_engine_the_generator_then_loads(
    shipped_model: Path, fresh_cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`python -m engine.doctor` before the opening: the first start loads an engine instead of building."""
    needs_tensorrt()
    from engine.config import load_config
    from engine.doctor.models import check_providers

    cfg = load_config(None, {"run": {"model": str(shipped_model)}})
    checks = {c.name: c for c in check_providers(cfg)}
    assert checks["ort-tensorrt"].level == "OK", checks["ort-tensorrt"]
    caplog.set_level(logging.INFO, logger="engine.generator")
    gen = OnnxGenerator(shipped_model, provider="tensorrt", warmup=1)
    assert gen.provider == "tensorrt" and "loading the cached engine" in caplog.text

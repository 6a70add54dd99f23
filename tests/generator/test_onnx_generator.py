"""The runtime on the shipped model: shapes, range, determinism, threads, provider choice."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from engine.generator import providers
from engine.generator.onnx_generator import OnnxGenerator


@pytest.fixture(scope="module")
def gen(shipped_model: Path) -> OnnxGenerator:
    return OnnxGenerator(shipped_model, provider="cpu", threads=1)


def test_output_shape_and_range(gen: OnnxGenerator) -> None:
    lat = gen.sample_latents(3, np.random.default_rng(1))
    out = gen.generate(lat)
    m = gen.manifest
    assert out.shape == (3, 3, m.height, m.width) and out.dtype == np.float32
    lo, hi = m.output_range
    assert out.min() >= lo and out.max() <= hi
    rgb = gen.to_rgb8(out)
    assert rgb.shape == (3, m.height, m.width, 3) and rgb.dtype == np.uint8


def test_deterministic_for_fixed_latent(gen: OnnxGenerator) -> None:
    lat = gen.sample_latents(1, np.random.default_rng(5))
    a, b = gen.generate(lat), gen.generate(lat.copy())
    assert np.array_equal(a, b)


def test_different_latents_give_different_images(gen: OnnxGenerator) -> None:
    lat = gen.sample_latents(2, np.random.default_rng(2))
    out = gen.generate(lat)
    assert np.abs(out[0] - out[1]).mean() > 0.02


def test_batch_matches_single(gen: OnnxGenerator) -> None:
    lat = gen.sample_latents(4, np.random.default_rng(3))
    batch = gen.generate(lat)
    single = np.concatenate([gen.generate(lat[i : i + 1]) for i in range(4)])
    np.testing.assert_allclose(batch, single, atol=1e-4)


def test_sampler_uses_mapping_and_truncation(gen: OnnxGenerator, shipped_model: Path, tmp_path: Path) -> None:
    """Sampled latents are the mapping network's w, pulled toward the mean by the manifest's ψ.

    A twin of the shipped model with ψ = 1 draws from the same seeds: the shipped latents must lie
    ψ times as far from the mean w, and the untruncated ones must be what mapping.onnx itself gives
    for those z (run here on a session of its own), not normal noise of the latent's size."""
    raw = json.loads((shipped_model / "manifest.json").read_text())
    psi = raw["latent"]["sampler"]["truncation"]
    assert gen.manifest.sampler.kind == "mapping" and gen.manifest.sampler.truncation == psi < 1.0
    raw["latent"]["sampler"]["truncation"] = 1.0
    for name in (raw["onnx"], raw["latent"]["sampler"]["onnx"]):
        (tmp_path / name).symlink_to(shipped_model / name)
    (tmp_path / "manifest.json").write_text(json.dumps(raw))
    untruncated = OnnxGenerator(tmp_path, provider="cpu", threads=1, warmup=0)

    n, mean = 512, gen.manifest.latent_mean
    lat = gen.sample_latents(n, np.random.default_rng(4))
    free = untruncated.sample_latents(n, np.random.default_rng(4))
    assert np.isfinite(lat).all() and np.isfinite(free).all()
    s = gen.manifest.sampler
    z = np.random.default_rng(4).standard_normal((n, s.input_dim)).astype(np.float32)
    mapping = ort.InferenceSession(str(s.onnx), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(free, mapping.run([s.output_name], {s.input_name: z})[0], atol=1e-5)
    # w lives around the manifest's mean (|mean| ≈ 9), far from where N(0, I) noise would be
    assert np.linalg.norm(free.mean(0) - mean) < 0.1 * np.linalg.norm(mean)
    ratio = np.linalg.norm(lat - mean, axis=1).mean() / np.linalg.norm(free - mean, axis=1).mean()
    assert ratio == pytest.approx(psi, abs=0.01)


def test_pca_directions_change_the_image(gen: OnnxGenerator) -> None:
    m = gen.manifest
    base = m.latent_mean[None]
    moved = base + 2.0 * m.sigma[0] * m.directions[0][None]
    diff = np.abs(gen.generate(base) - gen.generate(moved)).mean()
    assert diff > 0.02


def test_rejects_wrong_latent_shape(gen: OnnxGenerator) -> None:
    with pytest.raises(ValueError, match=r"latents must be \[batch, 256\]"):
        gen.generate(np.zeros((1, 7), np.float32))


def test_safe_from_several_threads(gen: OnnxGenerator) -> None:
    lats = gen.sample_latents(4, np.random.default_rng(6))
    expected = [gen.generate(lats[i : i + 1]) for i in range(4)]
    got: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(3):
            got[i] = gen.generate(lats[i : i + 1])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        np.testing.assert_array_equal(got[i], expected[i])


def test_provider_choice_on_cpu_only_machine(shipped_model: Path, caplog: pytest.LogCaptureFixture) -> None:
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has a GPU provider")
    assert [name for name, _ in providers.provider_list("auto")] == ["CPUExecutionProvider"]
    auto = OnnxGenerator(shipped_model, provider="auto", warmup=0)
    assert auto.provider == "cpu"
    with caplog.at_level(logging.WARNING):
        forced = OnnxGenerator(shipped_model, provider="cuda", warmup=0)
    assert forced.provider == "cpu"
    assert "CUDAExecutionProvider requested" in caplog.text


def test_unknown_provider_named() -> None:
    with pytest.raises(ValueError, match="provider must be one of auto, tensorrt, cuda, cpu, got 'metal'"):
        providers.provider_list("metal")


def test_thread_count_is_explicit(shipped_model: Path) -> None:
    g = OnnxGenerator(shipped_model, provider="cpu", threads=2, warmup=0)
    assert g.session.get_session_options().intra_op_num_threads == 2

"""The styled-model contract: the exporter writes it, the manifest checks it, the sampler obeys it.

A model without styles must load and sample exactly as before; a styled manifest that is wrong in any
key fails at load time in one line naming that key.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from engine.generator.manifest import ModelError, load_manifest
from engine.generator.onnx_generator import OnnxGenerator
from tests.styled_model import STYLES, TRUNCATION, W_DIM, Z_DIM, build_networks, export_styled_model


@pytest.fixture(scope="module")
def styled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_styled_model(tmp_path_factory.mktemp("styled") / "model")


@pytest.fixture()
def styled_copy(tmp_path: Path, styled: Path) -> Path:
    return Path(shutil.copytree(styled, tmp_path / "copy"))


def edit(folder: Path, fn) -> None:
    path = folder / "manifest.json"
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def test_exported_manifest_has_the_style_keys(styled: Path) -> None:
    raw = json.loads((styled / "manifest.json").read_text())
    sampler = raw["latent"]["sampler"]
    assert sampler["input_dim"] == Z_DIM + len(STYLES) and sampler["style_dim"] == len(STYLES)
    assert [s["name"] for s in raw["styles"]] == list(STYLES)
    m = load_manifest(styled)
    assert m.styles == STYLES and m.style_means.shape == (len(STYLES), W_DIM)
    assert m.sampler.style_dim == len(STYLES)


def test_estimated_centres_are_the_mapping_means(styled: Path) -> None:
    """A name alone: the exporter estimates its centre from one-hot samples of the mapping."""
    mapping, _ = build_networks()
    z = torch.randn(8192, Z_DIM, generator=torch.Generator().manual_seed(5))
    centres = load_manifest(styled).style_means
    for i in range(len(STYLES)):
        onehot = torch.zeros(len(z), len(STYLES))
        onehot[:, i] = 1
        with torch.no_grad():
            ws = mapping(torch.cat([z, onehot], 1)).numpy()
        spread = float(np.linalg.norm(ws.std(0)))
        assert np.linalg.norm(ws.mean(0) - centres[i]) < 0.1 * spread  # 512 samples vs 8192


def test_given_centres_are_written_as_given(tmp_path: Path) -> None:
    means = np.arange(len(STYLES) * W_DIM, dtype=np.float32).reshape(len(STYLES), W_DIM) / 10
    folder = export_styled_model(tmp_path / "m", styles=list(zip(STYLES, means)))
    np.testing.assert_allclose(load_manifest(folder).style_means, means, atol=1e-6)


def test_one_hot_sampling_is_the_mapping_of_z_and_the_style(styled: Path) -> None:
    """The engine's sampler = the torch mapping on z ⊕ weights, truncated toward the style's centre."""
    gen = OnnxGenerator(styled, provider="cpu", warmup=0)
    centres = gen.manifest.style_means
    mapping, synthesis = build_networks()
    for weights in (np.array([0, 1, 0], np.float32), np.array([0.5, 0, 0.5], np.float32)):
        got = gen.sample_latents(16, np.random.default_rng(3), weights)
        z = np.random.default_rng(3).standard_normal((16, Z_DIM)).astype(np.float32)
        packed = np.concatenate([z, np.tile(weights, (16, 1))], 1)
        with torch.no_grad():
            w = mapping(torch.from_numpy(packed)).numpy()
        centre = weights @ centres
        np.testing.assert_allclose(got, centre + TRUNCATION * (w - centre), atol=1e-4)
    with torch.no_grad():
        expected = synthesis(torch.from_numpy(got)).clamp(-1, 1).numpy()
    np.testing.assert_allclose(gen.generate(got), expected, atol=1e-4)


def test_no_weights_samples_every_style_alike(styled: Path) -> None:
    gen = OnnxGenerator(styled, provider="cpu", warmup=0)
    uniform = np.full(len(STYLES), 1 / len(STYLES), np.float32)
    a = gen.sample_latents(4, np.random.default_rng(1))
    b = gen.sample_latents(4, np.random.default_rng(1), uniform)
    c = gen.sample_latents(4, np.random.default_rng(1), np.zeros(len(STYLES)))  # nothing chosen
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_a_model_without_styles_loads_and_samples_as_before(shipped_model: Path) -> None:
    m = load_manifest(shipped_model)
    assert m.styles == () and m.style_means.shape[0] == 0 and m.sampler.style_dim == 0
    gen = OnnxGenerator(shipped_model, provider="cpu", warmup=0)
    assert len(gen.styles) == 0
    got = gen.sample_latents(3, np.random.default_rng(7))
    # what the sampler computed before styles existed: all of z is noise, truncation toward the mean
    z = np.random.default_rng(7).standard_normal((3, m.sampler.input_dim)).astype(np.float32)
    mapping = ort.InferenceSession(str(m.sampler.onnx), providers=["CPUExecutionProvider"])
    w = mapping.run(None, {"z": z})[0]
    np.testing.assert_allclose(got, m.latent_mean + m.sampler.truncation * (w - m.latent_mean), atol=1e-5)


def _set_sampler(key: str, value):
    return lambda d: d["latent"]["sampler"].__setitem__(key, value)


def _set_style(i: int, key: str, value):
    return lambda d: d["styles"][i].__setitem__(key, value)


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (_set_sampler("style_dim", 2), "latent.sampler.style_dim", "lists 3 styles"),
        (_set_sampler("style_dim", Z_DIM + 3), "latent.sampler.style_dim", "0..input_dim-1"),
        (_set_sampler("style_dim", "3"), "latent.sampler.style_dim", "must be int"),
        (lambda d: d["latent"]["sampler"].pop("style_dim"), "latent.sampler.style_dim", "is 0"),
        (lambda d: d.pop("styles"), "latent.sampler.style_dim", "lists 0 styles"),
        (lambda d: d.__setitem__("styles", {"marble": []}), "styles", "non-empty list"),
        (lambda d: d.__setitem__("styles", []), "styles", "non-empty list"),
        (_set_style(1, "name", "Water Colour"), "styles[1].name", "a-z, 0-9"),
        (_set_style(2, "name", "marble"), "styles[2].name", "already the name"),
        (_set_style(0, "name", 3), "styles[0].name", "must be str"),
        (lambda d: d["styles"][0].pop("name"), "styles[0].name", "missing"),
        (_set_style(1, "mean", [0.0] * (W_DIM - 1)), "styles[1].mean", f"input.dim is {W_DIM}"),
        (_set_style(1, "mean", ["x"] * W_DIM), "styles[1].mean", "finite numbers"),
        (lambda d: d["styles"][2].pop("mean"), "styles[2].mean", "missing"),
    ],
)
def test_a_bad_style_key_is_named(styled_copy: Path, change, key: str, words: str) -> None:
    edit(styled_copy, change)
    with pytest.raises(ModelError) as e:
        load_manifest(styled_copy)
    msg = str(e.value)
    assert "\n" not in msg and f"'{key}'" in msg and words in msg, msg


def test_styles_need_a_mapping_sampler(styled_copy: Path) -> None:
    edit(styled_copy, lambda d: d["latent"].__setitem__("sampler", {"kind": "normal"}))
    with pytest.raises(ModelError, match=r"key 'styles' needs key 'latent.sampler.kind' 'mapping'"):
        load_manifest(styled_copy)


def test_a_style_dim_the_onnx_file_does_not_have_is_refused(styled_copy: Path) -> None:
    """Manifest and mapping.onnx must agree on the input size, styles included."""

    def more(d: dict) -> None:
        d["latent"]["sampler"]["input_dim"] += 1
        d["latent"]["sampler"]["style_dim"] += 1
        d["styles"].append({"name": "contour", "mean": [0.0] * W_DIM})

    edit(styled_copy, more)
    assert load_manifest(styled_copy).styles[-1] == "contour"
    with pytest.raises(ModelError, match=r"mapping.onnx: input 'z' has shape .* says \[batch, 12\]"):
        OnnxGenerator(styled_copy, provider="cpu", warmup=0)


def test_the_exporter_refuses_bad_styles(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be 1-64 of a-z"):
        export_styled_model(tmp_path / "a", styles=["marble", "Glass!", "x"])
    with pytest.raises(ValueError, match="unique"):
        export_styled_model(tmp_path / "b", styles=["marble", "marble", "glass"])
    _, synthesis = build_networks()
    from models.export import export_generator

    with pytest.raises(ValueError, match="styles need a mapping network"):
        export_generator(synthesis, tmp_path / "c", W_DIM, styles=["marble"])

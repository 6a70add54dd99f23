"""Styles in the engine: weights → centre, one-hot selects, the crossfade, config and SIGHUP.

Run on a real tiny class-conditional model exported with the project's exporter (tests/styled_model.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from engine.config import ConfigError, load_config
from engine.generator.onnx_generator import OnnxGenerator
from engine.latent import LatentIntegrator, LatentSettings
from engine.pipeline import Pipeline, absent_viewer
from tests.styled_model import STYLES, export_styled_model

MARBLE, WATERCOLOUR, GLASS = np.eye(len(STYLES), dtype=np.float32)


@pytest.fixture(scope="module")
def styled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_styled_model(tmp_path_factory.mktemp("styled") / "model")


@pytest.fixture(scope="module")
def gen(styled: Path) -> OnnxGenerator:
    return OnnxGenerator(styled, provider="cpu", warmup=0)


def integrator(gen: OnnxGenerator, **settings) -> LatentIntegrator:
    m = gen.manifest
    return LatentIntegrator(
        gen.sample_latents,
        m.latent_mean,
        m.directions,
        m.sigma,
        m.latent_space,
        LatentSettings(**settings),
        gen.styles,
    )


def test_weights_are_normalised_and_nothing_chosen_is_every_style(gen: OnnxGenerator) -> None:
    s = gen.styles
    np.testing.assert_allclose(s.normalise(np.zeros(3)), [1 / 3] * 3)
    np.testing.assert_allclose(s.normalise(np.array([0.7, 0.0, 0.7])), [0.5, 0, 0.5])
    np.testing.assert_allclose(s.normalise(np.array([-1.0, np.nan, 2.0])), [0, 0, 1])
    np.testing.assert_allclose(s.weights({"style.glass": 0.3, "mirror.gain": 2.0}), GLASS)
    np.testing.assert_allclose(s.centre(np.array([0.5, 0, 0.5])), (s.means[0] + s.means[2]) / 2, atol=1e-6)
    integ = integrator(gen)
    integ.step({}, 0.0, style=np.zeros(3))
    np.testing.assert_allclose(integ.weights, [1 / 3] * 3)


def test_one_hot_selects_the_style(gen: OnnxGenerator) -> None:
    centres = gen.manifest.style_means
    for i, onehot in enumerate((MARBLE, WATERCOLOUR, GLASS)):
        ws = gen.sample_latents(256, np.random.default_rng(i), onehot)
        distance = np.linalg.norm(ws.mean(0) - centres, axis=1)
        assert distance.argmin() == i, distance
        assert distance[i] < 0.2 * np.delete(distance, i).min(), distance
    integ = integrator(gen)
    integ.set_style(GLASS)
    integ.reseed(4)  # the keyframes are sampled with the style of their moment, and remember it
    assert all(np.array_equal(w, GLASS) for w in integ.key_weights)


def test_a_style_change_moves_the_target_at_once_and_the_picture_smoothly(gen: OnnxGenerator) -> None:
    s = gen.styles
    integ = integrator(gen, speed=2.5, smoothing=0.35)
    integ.set_style(MARBLE)
    integ.reseed(2)
    for _ in range(120):
        integ.step({}, 1 / 30, drift=0.0)
    before_target, before = integ.target({}), integ.current.copy()
    integ.step({}, 0.0, drift=0.0, style=GLASS)  # the VJ's fader, no time passed
    shift = s.centre(GLASS) - s.centre(MARBLE)
    np.testing.assert_allclose(integ.target({}), before_target + shift, atol=1e-5)  # at once
    np.testing.assert_array_equal(integ.current, before)  # but the picture has not jumped
    distances, prev = [], integ.current.copy()
    for _ in range(int(30 * 6)):  # six seconds at 30 fps
        cur = integ.step({}, 1 / 30, drift=0.0, style=GLASS)
        assert np.linalg.norm(cur - prev) <= integ.max_step(1 / 30) * (1 + 1e-4) + 1e-6  # bounded speed
        prev = cur.copy()
        distances.append(float(np.linalg.norm(integ.target({}) - cur)))
    assert all(b <= a + 1e-5 for a, b in zip(distances, distances[1:]))  # always closer, never back
    assert distances[0] > 0.5 * np.linalg.norm(shift) and distances[-1] < 0.01 * np.linalg.norm(shift)


def test_new_keyframes_take_the_new_style_without_a_jump(gen: OnnxGenerator) -> None:
    s = gen.styles
    integ = integrator(gen, drift_period=1.0)
    integ.set_style(MARBLE)
    integ.reseed(9)
    integ.set_style(GLASS)
    jump = float(np.linalg.norm(s.centre(GLASS) - s.centre(MARBLE)))
    bases, wrapped = [integ.base()], 0
    for _ in range(150):  # two and a half keyframes: wraps twice, each samples a glass key
        phase = integ.phase
        integ.step({}, 1 / 60, drift=1.0)
        wrapped += integ.phase < phase
        bases.append(integ.base())
    steps = np.linalg.norm(np.diff(np.array(bases), axis=0), axis=1)
    assert wrapped == 2 and steps.max() < 0.1 * jump, (steps.max(), jump)
    assert all(np.array_equal(w, GLASS) for w in integ.key_weights)
    base = integ.base()
    integ.set_style(WATERCOLOUR)
    moved = integ.base()
    integ.jump()  # a cut keeps the base where it is, in the style of now
    np.testing.assert_allclose(integ.base(), moved, atol=1e-5)
    assert not np.allclose(moved, base)


def test_pca_coordinates_are_measured_from_the_style_centre(gen: OnnxGenerator) -> None:
    integ = integrator(gen)
    integ.set_style(GLASS)
    integ.current = gen.styles.centre(GLASS)
    np.testing.assert_allclose(integ.coordinates(4), 0.0, atol=1e-5)


# ------------------------------------------------------------------ config, pipeline, reload
def config(model: Path, style=None, params: dict | None = None, **run):
    over = {"run": {"model": str(model), "source": "demo", "headless": True, "size": "320x180", **run}}
    if style is not None:
        over["run"]["style"] = style
    if params:
        over["params"] = params
    return load_config(None, {**over, "osc": {"listen": "off"}})


def test_config_style_forms() -> None:
    assert load_config(None, {"run": {"style": "glass"}}).run.style == {"glass": 1.0}
    assert load_config(None, {"run": {"style": {"marble": 0.5, "glass": 1}}}).run.style == {
        "marble": 0.5,
        "glass": 1.0,
    }
    assert load_config(None, {}).run.style == {} and load_config(None, {"run": {"style": ""}}).run.style == {}
    with pytest.raises(ConfigError, match=r"run.style.glass = 2 must be a weight 0..1"):
        load_config(None, {"run": {"style": {"glass": 2}}})
    with pytest.raises(ConfigError, match=r"run.style = 3 must be a style name or a table"):
        load_config(None, {"run": {"style": 3}})
    with pytest.raises(ConfigError, match=r"style belongs in \[run\]"):
        load_config(None, {"style": {"glass": 1.0}})


def test_a_scene_style_reaches_the_latent(styled: Path) -> None:
    p = Pipeline(config(styled, "glass"))
    try:
        assert [p.params.get(f"style.{n}") for n in STYLES] == [0.0, 0.0, 1.0]
        p.advance(absent_viewer(0.0), 0.0, 1 / 30)
        np.testing.assert_allclose(p.integrator.weights, GLASS)
        assert p.style_status() == {"marble": 0.0, "watercolour": 0.0, "glass": 1.0}
        p.params.set("style.marble", 1.0, origin="osc")  # a blend, crossfaded by the integrator
        p.advance(absent_viewer(1 / 30), 1 / 30, 1 / 30)
        assert p.style_status() == {"marble": 0.5, "watercolour": 0.0, "glass": 0.5}
    finally:
        p.close()
    p = Pipeline(config(styled, {"marble": 0.25, "watercolour": 0.75}))
    try:
        p.advance(absent_viewer(0.0), 0.0, 1 / 30)
        np.testing.assert_allclose(p.integrator.weights, [0.25, 0.75, 0.0])
    finally:
        p.close()


@pytest.mark.parametrize(
    ("style", "params", "message"),
    [
        ("glas", None, "run.style: no style 'glas' in this model (its styles: glass, marble, watercolour)"),
        (
            {"marble": 0.5, "opal": 0.5},
            None,
            "run.style: no style 'opal' in this model (its styles: glass, marble",
        ),
        (
            None,
            {"style.opal": 1.0},
            "params.style.opal: no style 'opal' in this model (its styles: glass, marble",
        ),
        ("glass", {"style.marble": 1.0}, "run.style and params.style.* both set the style"),
    ],
)
def test_a_style_the_model_lacks_stops_the_start(styled: Path, style, params, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        Pipeline(config(styled, style, params))
    assert str(e.value).startswith(message), str(e.value)


def test_a_model_without_styles_refuses_a_style(shipped_model: Path) -> None:
    with pytest.raises(ConfigError, match=r"run.style: no style 'glass': this model has no styles"):
        Pipeline(config(shipped_model, "glass"))


def test_sighup_changes_the_style_and_refuses_an_unknown_one(styled: Path, tmp_path, monkeypatch, caplog):
    from engine.app import App

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    path = tmp_path / "piece.toml"
    run = f'[run]\nmodel = "{styled}"\nsource = "demo"\nheadless = true\nsize = "320x180"\n'
    path.write_text(run + 'style = "marble"\n')
    overrides = {"osc": {"listen": "off"}}
    app = App(load_config(path, overrides), reload=lambda: load_config(path, overrides))
    params = app.pipeline.params
    try:
        assert params.get("style.marble") == 1.0
        params.set("style.watercolour", 0.4, origin="osc")  # a VJ's live blend
        path.write_text(run + 'style = "marble"\n[params]\n"fx.contrast" = 2\n')
        app.reloader.request()
        app.reloader.apply_pending()
        assert params.get("style.watercolour") == 0.4  # the file's style did not change: the VJ's stays
        path.write_text(run + 'style = {glass = 0.8}\n[params]\n"fx.contrast" = 2\n')
        with caplog.at_level(logging.INFO, logger="engine.reload"):
            app.reloader.request()
            app.reloader.apply_pending()
        said = [r.getMessage() for r in caplog.records]
        assert "SIGHUP: config reloaded (1 changes)" in said and not any("restart" in m for m in said), said
        caplog.clear()
        assert [params.get(f"style.{n}") for n in STYLES] == [0.0, 0.0, 0.8] and app.cfg.run.style == {
            "glass": 0.8
        }
        path.write_text(run + 'style = "opal"\n')
        with caplog.at_level(logging.ERROR, logger="engine.reload"):
            app.reloader.request()
            app.reloader.apply_pending()
        assert params.get("style.glass") == 0.8 and app.cfg.run.style == {"glass": 0.8}
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [
            "SIGHUP: config not reloaded, the running one stays: "
            "run.style: no style 'opal' in this model (its styles: glass, marble, watercolour)"
        ]
    finally:
        app.pipeline.close()

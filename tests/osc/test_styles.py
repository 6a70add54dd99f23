"""/style/<name> over real UDP on loopback reaches the latent's style weights; OSCQuery lists the styles."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from engine.config import load_config
from engine.control.osc.query import build_tree, find
from engine.pipeline import Pipeline, absent_viewer
from tests.styled_model import STYLES, export_styled_model


@pytest.fixture(scope="module")
def styled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_styled_model(tmp_path_factory.mktemp("styled") / "model")


@pytest.fixture
def pipeline(styled: Path, tmp_path: Path):
    cfg = load_config(
        None,
        {
            "run": {"model": str(styled), "source": "demo", "headless": True, "size": "320x180"},
            "osc": {"listen": "127.0.0.1:0", "presets": str(tmp_path / "presets")},
        },
    )
    p = Pipeline(cfg)
    p.start()
    yield p
    p.close()


def send(p: Pipeline, *messages: tuple[str, object]) -> None:
    server = p.osc.server
    assert server is not None
    before = server.stats["messages"]
    client = SimpleUDPClient(*server.address)
    for address, value in messages:
        client.send_message(address, value)
    end = time.monotonic() + 3
    while server.stats["messages"] < before + len(messages) and time.monotonic() < end:
        time.sleep(0.002)
    assert server.stats["messages"] == before + len(messages)


def test_style_weights_over_udp_reach_the_latent(pipeline: Pipeline) -> None:
    p = pipeline
    p.advance(absent_viewer(0.0), 0.0, 1 / 30)
    np.testing.assert_allclose(p.integrator.weights, [1 / 3] * 3)  # nothing chosen: every style
    send(p, ("/style/glass", 0.7))
    p.advance(absent_viewer(1 / 30), 1 / 30, 1 / 30)
    assert p.params.get("style.glass") == pytest.approx(0.7)
    np.testing.assert_allclose(p.integrator.weights, [0, 0, 1])  # glass alone, normalised
    send(p, ("/style/marble", 0.7), ("/style/glass", 2.0))  # clamped to 1 like any parameter
    p.advance(absent_viewer(2 / 30), 2 / 30, 1 / 30)
    np.testing.assert_allclose(p.integrator.weights, [0.7 / 1.7, 0, 1 / 1.7], atol=1e-6)
    assert p.style_status() == {"marble": 0.412, "watercolour": 0.0, "glass": 0.588}
    send(p, ("/param/style.marble", 0.0))  # the same parameter by its registry name
    p.advance(absent_viewer(3 / 30), 3 / 30, 1 / 30)
    np.testing.assert_allclose(p.integrator.weights, [0, 0, 1])


def test_an_unknown_style_is_logged_once_with_the_model_styles(pipeline: Pipeline, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="engine.control.osc.inbound"):
        send(pipeline, ("/style/opal", 0.5), ("/style/opal", 0.6), ("/style/glass", "x"))
    pipeline.advance(absent_viewer(0.0), 0.0, 1 / 30)
    lines = [r.getMessage() for r in caplog.records]
    assert (
        lines.count("OSC in: no style 'opal' in this model (its styles: glass, marble, watercolour; ignored)")
        == 1
    ), lines
    assert any("/style/glass" in ln and "a number" in ln for ln in lines), lines
    assert pipeline.osc.server.stats["unknown"] == 2
    assert [pipeline.params.get(f"style.{n}") for n in STYLES] == [0.0, 0.0, 0.0]


def test_oscquery_lists_the_styles(pipeline: Pipeline) -> None:
    pipeline.params.set("style.watercolour", 0.25)
    tree = build_tree(pipeline.params, ["mirror"])
    assert sorted(find(tree, "/style")["CONTENTS"]) == sorted(STYLES)
    node = find(tree, "/style/watercolour")
    assert node["VALUE"] == [0.25] and node["RANGE"] == [{"MIN": 0.0, "MAX": 1.0}] and node["TYPE"] == "f"
    assert find(tree, "/param/style.watercolour")["VALUE"] == [0.25]
    assert find(tree, "/style/<name>") is None

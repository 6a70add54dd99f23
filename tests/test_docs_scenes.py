"""docs/scenes.md's complete example is a working scene: extracted from the page, loaded, and driven."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from engine import scene as scene_mod
from tests.scenes.scene_io import inputs, params

DOC = Path(__file__).resolve().parents[1] / "docs" / "scenes.md"


@pytest.fixture
def tide() -> type:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    source = next(b for b in blocks if "class TideScene" in b)
    module = types.ModuleType("scenes_doc_tide")
    try:
        exec(compile(source, str(DOC), "exec"), module.__dict__)
        yield module.TideScene
    finally:
        scene_mod._REGISTRY.pop("tide", None)  # the page's scene must not join the shipped repertoire


def test_the_example_registers_and_sways_both_ways(tide: type) -> None:
    assert scene_mod.scene_class("tide") is tide
    scene, p = tide(), params("tide")
    right = scene.update(inputs(1.0, p=p, presence=1.0, lean=0.8)).directions[0]
    left = scene.update(inputs(1.0, p=p, presence=1.0, lean=-0.8)).directions[0]
    assert right > 0 > left


def test_the_example_warms_with_a_smile_and_drifts_alone(tide: type) -> None:
    scene, p = tide(), params("tide")
    smiling = scene.update(inputs(1.0, p=p, presence=1.0, smile=1.0)).uniforms["hue_shift"]
    neutral = scene.update(inputs(1.0, p=p, presence=1.0)).uniforms["hue_shift"]
    assert smiling < neutral == 0.0
    alone = scene.update(inputs(1.0, p=p, presence=0.0))
    assert alone.drift > 0 and not alone.directions


def test_every_shipped_scene_is_in_the_table() -> None:
    text = DOC.read_text()
    for name in scene_mod.scene_names():
        assert f"| `{name}` |" in text, f"docs/scenes.md does not list scene {name}"

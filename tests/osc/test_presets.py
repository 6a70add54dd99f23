"""Presets: atomic JSON files under a user folder; names from the network cannot escape it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from engine.presets import FORMAT, Preset, PresetError, Presets, check_name


@pytest.mark.parametrize(
    "name", ["../x", "..", "a/b", "a\\b", "", ".hidden", "x" * 65, "é", "a b", "/etc/passwd", None, 3]
)
def test_hostile_names_are_refused(name) -> None:
    with pytest.raises(PresetError, match="preset name"):
        check_name(name)


def test_save_and_load(tmp_path: Path) -> None:
    presets = Presets(tmp_path / "p")
    path = presets.save(Preset("club-1", "mirror", {"mirror.gain": 2.0, "engine.blackout": 0.0}))
    assert path.parent == tmp_path / "p" and path.name == "club-1.json"
    assert json.loads(path.read_text())["format"] == FORMAT
    loaded = presets.load("club-1")
    assert loaded.scene == "mirror" and loaded.params == {"engine.blackout": 0.0, "mirror.gain": 2.0}
    assert presets.names() == ["club-1"]
    assert not list((tmp_path / "p").glob(".preset-*"))  # no temp file left behind


def test_bad_files_are_reported(tmp_path: Path) -> None:
    presets = Presets(tmp_path)
    with pytest.raises(PresetError, match="no such preset"):
        presets.load("missing")
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(PresetError, match="unreadable"):
        presets.load("junk")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(PresetError, match="not a"):
        presets.load("other")
    (tmp_path / "nan.json").write_text(json.dumps({"format": FORMAT, "params": {"a.b": "high"}}))
    with pytest.raises(PresetError, match="not a finite number"):
        presets.load("nan")


def test_a_preset_naming_an_unknown_scene_keeps_the_scene_and_says_so(tmp_path: Path, caplog) -> None:
    from engine.pipeline import Pipeline

    from .conftest import engine_config

    pipeline = Pipeline(engine_config(tmp_path, offline=True, frames=1))
    try:
        pipeline.presets.save(Preset("old-show", "kaleidoscope", {"mirror.gain": 2.0}))
        with caplog.at_level(logging.WARNING, logger="engine.pipeline"):
            pipeline.load_preset("old-show")
            pipeline.load_preset("old-show")  # a controller pressing it again: still one line
        assert pipeline.scene.name == "mirror" and pipeline.params.get("mirror.gain") == 2.0
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warnings == ["preset old-show: unknown scene 'kaleidoscope', the scene stays 'mirror'"]
    finally:
        pipeline.close()

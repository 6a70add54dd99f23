"""The contact sheet a curator reads: four real frames of an offline run, and the motion numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from engine import scene_sheet


def test_a_sheet_holds_four_distinct_frames_and_reports_motion(tmp_path: Path, capsys) -> None:
    out = tmp_path / "drift.png"
    assert scene_sheet.main(["--scene", "drift", "--frames", "12", "--size", "96x54", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["frames"] == 12 and report["max_change"] >= report["mean_change"] > 0
    sheet = np.asarray(Image.open(out).convert("RGB"))
    assert sheet.shape == (54 + 18, 4 * 96 + 3 * 4, 3)
    tiles = [sheet[18:, k * 100 : k * 100 + 96].astype(int) for k in range(4)]
    assert all(np.abs(a - b).mean() > 0 for a, b in zip(tiles, tiles[1:]))


def test_an_unknown_scene_is_one_line(tmp_path: Path, capsys) -> None:
    assert scene_sheet.main(["--scene", "nope", "--out", str(tmp_path / "x.png")]) == 2
    assert "unknown scene 'nope'" in capsys.readouterr().err

"""The README stays true: its example config loads, its flags exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from engine.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def test_readme_config_example_is_valid(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", text, re.S)
    assert blocks
    for i, block in enumerate(blocks):
        p = tmp_path / f"c{i}.toml"
        p.write_text(block)
        load_config(p)


def test_readme_flags_exist() -> None:
    text = (ROOT / "README.md").read_text()
    flags = set(re.findall(r"^\| `(--[a-z-]+)", text, re.M))
    help_text = subprocess.run(
        [sys.executable, str(ROOT / "run_installation.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert flags and all(f in help_text for f in flags), flags - set(re.findall(r"--[a-z-]+", help_text))

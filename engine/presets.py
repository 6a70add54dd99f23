"""Presets: the registry's values (and the scene) saved as small JSON files in a user folder.

A preset name arrives over the network (`/preset/save <name>`), so it is a
file name chosen by a stranger: only letters, digits, '-' and '_' are
accepted, which rules out path traversal, hidden files and odd encodings
before any path is built. Files are written atomically (temp file + rename)
so a power cut never leaves a half-written preset, and loaded with a size cap
and type checks so a hand-edited or corrupt file is reported, not obeyed.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

FORMAT = "latent-mirror/preset@1"
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_BYTES = 256 * 1024


class PresetError(ValueError):
    """One line: which preset, what is wrong."""


@dataclass(frozen=True)
class Preset:
    name: str
    scene: str
    params: dict[str, float]


def default_folder() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "latent-mirror" / "presets"


def check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise PresetError(f"preset name {repr(name)[:80]} must be 1-64 letters, digits, '-' or '_'")
    return name


class Presets:
    def __init__(self, folder: str | Path = "") -> None:
        self.folder = Path(folder) if folder else default_folder()

    def path(self, name: str) -> Path:
        return self.folder / f"{check_name(name)}.json"

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json") if NAME.fullmatch(p.stem))

    def save(self, preset: Preset) -> Path:
        path = self.path(preset.name)
        self.folder.mkdir(parents=True, exist_ok=True)
        doc = {"format": FORMAT, "scene": preset.scene, "params": dict(sorted(preset.params.items()))}
        fd, tmp = tempfile.mkstemp(prefix=".preset-", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=1)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def load(self, name: str) -> Preset:
        path = self.path(name)
        try:
            if path.stat().st_size > MAX_BYTES:
                raise PresetError(f"preset {name}: file larger than {MAX_BYTES} bytes")
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PresetError(f"preset {name}: no such preset in {self.folder}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise PresetError(f"preset {name}: unreadable ({e})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise PresetError(f"preset {name}: not a {FORMAT} file")
        scene = doc.get("scene", "")
        params = doc.get("params", {})
        if not isinstance(scene, str) or not isinstance(params, dict):
            raise PresetError(f"preset {name}: 'scene' must be a string and 'params' a table")
        values: dict[str, float] = {}
        for key, value in params.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise PresetError(f"preset {name}: params.{key} = {value!r} is not a finite number")
            values[str(key)] = float(value)
        return Preset(name, scene, values)

"""A model folder made from another one's files (an int8 copy, a resized speed fixture).

Both keep the source's latent space, so they take its mapping network as it is and rewrite only the
manifest's name, description and whatever the caller changed in `raw` before.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from engine.generator.manifest import Manifest


def write_derived(m: Manifest, raw: dict, out: Path, name: str, description: str) -> None:
    """Copy `m`'s mapping network (if it samples through one) into `out` and write `raw` as its
    manifest.json under the new name and description; the caller wrote the generator's ONNX."""
    sampler = raw["latent"]["sampler"]
    if sampler.get("kind") == "mapping":
        shutil.copy2(m.folder / sampler["onnx"], out / sampler["onnx"])
    raw["name"], raw["description"] = name, description
    (out / "manifest.json").write_text(json.dumps(raw, indent=1), encoding="utf-8")

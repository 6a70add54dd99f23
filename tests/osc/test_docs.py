"""docs/osc.md names every address, parameter, feature, group and sync value the code has."""

from __future__ import annotations

from pathlib import Path

from engine import engine_params
from engine.control.osc.dispatch import ADDRESSES
from engine.control.osc.sender import GROUPS
from engine.curves import CURVES
from engine.params import ParamRegistry
from engine.perception.features import FEATURES
from engine.scene import scene_class, scene_names
from engine.sync import SYNC_KEYS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "osc.md").read_text(encoding="utf-8")


def test_docs_cover_the_address_space() -> None:
    reg = ParamRegistry()
    engine_params.declare(reg, 1)
    for name in scene_names():
        for spec in scene_class(name).params:
            reg.declare(spec)
    features = FEATURES.values() if isinstance(FEATURES, dict) else FEATURES
    names = [
        *ADDRESSES,
        *GROUPS,
        *CURVES,
        *(k for k in SYNC_KEYS if k != "band_<i>"),
        *(s.name for s in reg.specs() if not s.name.startswith("motion.dir.") or s.name.endswith(".0")),
        *(f.name for f in features),
    ]
    missing = [n for n in names if f"`{n}`" not in DOC]
    assert not missing, f"docs/osc.md does not mention: {missing}"

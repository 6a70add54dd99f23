from __future__ import annotations

import pytest

from engine.params import ParamRegistry, ParamSpec


def test_clamps_and_notifies_changes_only() -> None:
    reg = ParamRegistry([ParamSpec("a.gain", 1.0, 0.0, 2.0, "gain")])
    heard: list[tuple[str, float, str]] = []
    reg.subscribe(lambda n, v, o: heard.append((n, v, o)))
    assert reg.set("a.gain", 5.0, "osc") == 2.0
    reg.set("a.gain", 7.0, "osc")  # still 2.0 after clamping: no echo
    assert heard == [("a.gain", 2.0, "osc")]


def test_kinds() -> None:
    reg = ParamRegistry([ParamSpec("a.n", 1, 0, 10, "n", "int"), ParamSpec("a.b", 0, 0, 1, "b", "bool")])
    assert reg.set("a.n", 3.6) == 4.0
    assert reg.set("a.b", 0.7) == 1.0


def test_unknown_and_bad_specs() -> None:
    reg = ParamRegistry()
    with pytest.raises(KeyError, match="unknown parameter 'x.y'"):
        reg.set("x.y", 1)
    with pytest.raises(ValueError, match="default 5 outside 0..1"):
        ParamSpec("x.y", 5, 0, 1, "bad")


def test_non_finite_values_are_refused() -> None:
    reg = ParamRegistry([ParamSpec("a.gain", 1.0, 0.0, 2.0, "gain")])
    assert reg.has("a.gain") and not reg.has("a.other")
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="not a finite number"):
            reg.set("a.gain", bad)
    assert reg.get("a.gain") == 1.0

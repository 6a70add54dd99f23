"""The one curve table: each curve's formula pinned at a few points, and its signed extension."""

from __future__ import annotations

import pytest

from engine.curves import CURVES, signed

# (curve, u, value): hand-computed from each curve's formula, not read back from the code.
PINS = [
    ("linear", 0.25, 0.25),
    ("linear", 0.8, 0.8),
    ("ease_in", 0.5, 0.25),
    ("ease_in", 0.25, 0.0625),
    ("ease_out", 0.5, 0.75),
    ("ease_out", 0.25, 0.4375),
    ("smooth", 0.25, 0.15625),  # 3u² - 2u³
    ("smooth", 0.5, 0.5),
    ("smooth", 0.75, 0.84375),
    ("exp", 0.5, 31 / 1023),  # (2^(10u) - 1) / 1023
    ("exp", 0.1, 1 / 1023),
    ("log", 1 / 1023, 0.1),  # log2(1 + 1023u) / 10
    ("log", 0.5, 0.9001408194392809),
    ("step", 0.49, 0.0),
    ("step", 0.5, 1.0),
]


@pytest.mark.parametrize(("curve", "u", "value"), PINS)
def test_curve_formula(curve: str, u: float, value: float) -> None:
    assert CURVES[curve](u) == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize("curve", sorted(CURVES))
def test_every_curve_is_pinned_and_keeps_its_ends(curve: str) -> None:
    assert curve in {c for c, _, _ in PINS}, f"curve {curve} has no pinned values"
    assert CURVES[curve](0.0) == pytest.approx(0.0, abs=1e-12)
    assert CURVES[curve](1.0) == pytest.approx(1.0, abs=1e-12)


def test_signed_mirrors_around_zero_and_clamps() -> None:
    assert signed("ease_in", 0.5) == pytest.approx(0.25)
    assert signed("ease_in", -0.5) == pytest.approx(-0.25)  # not +0.25: a push left stays left
    assert signed("smooth", -0.25) == pytest.approx(-0.15625)
    assert signed("ease_out", -0.25) == pytest.approx(-0.4375)
    assert signed("ease_out", -3.0) == -1.0 and signed("linear", 7.0) == 1.0
    assert signed("smooth", 0.0) == 0.0

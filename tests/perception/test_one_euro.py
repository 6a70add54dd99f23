"""The One Euro filter: smooth when still, little lag when moving, time taken from timestamps."""

from __future__ import annotations

import numpy as np
import pytest

from engine.perception.one_euro import OneEuroBank, OneEuroFilter


def run(f: OneEuroFilter, xs: np.ndarray, ts: np.ndarray) -> np.ndarray:
    return np.array([f(x, t) for x, t in zip(xs, ts, strict=True)])


def test_first_sample_passes_through_and_reset_forgets() -> None:
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    assert f.value is None
    assert f(5.0, 0.0) == 5.0
    assert f(0.0, 0.1) < 5.0
    f.reset()
    assert f.value is None
    assert f(-2.0, 0.2) == -2.0


def test_smooths_jitter_on_a_constant() -> None:
    rng = np.random.default_rng(1)
    ts = np.arange(300) / 30.0
    xs = 0.5 + rng.normal(0.0, 0.05, ts.size)
    out = run(OneEuroFilter(min_cutoff=1.0, beta=0.5, d_cutoff=1.0), xs, ts)
    settled = out[60:]
    assert np.std(settled) < 0.35 * np.std(xs[60:])
    assert abs(np.mean(settled) - 0.5) < 0.02


def test_beta_cuts_lag_on_a_ramp() -> None:
    ts = np.arange(90) / 30.0
    xs = 0.8 * ts  # 0.8 units per second, like a head turning steadily
    lag_plain = xs[-1] - run(OneEuroFilter(min_cutoff=1.0, beta=0.0), xs, ts)[-1]
    lag_adaptive = xs[-1] - run(OneEuroFilter(min_cutoff=1.0, beta=5.0), xs, ts)[-1]
    assert lag_plain > 0.1  # a 1 Hz low-pass trails a ramp by speed / (2π · 1 Hz) ≈ 0.13
    assert lag_adaptive < 0.35 * lag_plain
    assert lag_adaptive < 0.05


def test_output_depends_on_time_not_on_call_count() -> None:
    """A step seen at 15 Hz or 60 Hz for the same 0.6 s ends at about the same value."""
    results = []
    for rate in (15.0, 60.0):
        f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
        f(0.0, 0.0)
        n = round(0.6 * rate)
        out = [f(1.0, (i + 1) / rate) for i in range(n)]
        results.append(out[-1])
    assert results[0] == pytest.approx(results[1], abs=0.06)
    assert 0.8 < results[0] < 1.0


def test_a_long_gap_lets_the_value_jump_a_short_one_does_not() -> None:
    short, long = OneEuroFilter(1.0), OneEuroFilter(1.0)
    short(0.0, 0.0)
    long(0.0, 0.0)
    assert short(1.0, 0.01) < 0.1
    assert long(1.0, 10.0) > 0.95


def test_repeated_or_older_timestamps_leave_the_estimate_alone() -> None:
    f = OneEuroFilter(1.0, beta=1.0)
    f(0.0, 0.0)
    v = f(1.0, 0.1)
    assert f(100.0, 0.1) == v  # a repeated frame
    assert f(-100.0, 0.05) == v  # a clock that stepped back
    assert f(1.0, 0.2) > v


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"min_cutoff": 0.0}, "min_cutoff"), ({"beta": -1.0}, "beta"), ({"d_cutoff": float("nan")}, "d_cutoff")],
)
def test_bad_parameters_are_named(kwargs: dict[str, float], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        OneEuroFilter(**kwargs)


def test_bank_filters_each_name_on_its_own() -> None:
    bank = OneEuroBank(min_cutoff=1.0, beta=0.0)
    assert bank({"a": 0.0, "b": 10.0}, 0.0) == {"a": 0.0, "b": 10.0}
    out = bank({"a": 1.0, "b": 10.0}, 0.1)
    assert 0.0 < out["a"] < 1.0
    assert out["b"] == 10.0
    assert bank({"c": 3.0}, 0.2) == {"c": 3.0}  # a new name starts unfiltered
    bank.reset(["a"])
    assert bank({"a": 7.0, "b": 0.0}, 0.3)["a"] == 7.0
    bank.reset()
    assert bank({"b": 0.0}, 0.4)["b"] == 0.0

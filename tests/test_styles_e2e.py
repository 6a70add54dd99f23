"""End to end, headless and offline: a styled model runs in the real loop in the style the config chose,
and a style changed mid-run glides without a cut."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from engine.app import App
from engine.config import load_config
from engine.pipeline import Step
from engine.status import build_status
from tests.styled_model import export_styled_model

pytestmark = pytest.mark.slow

FRAMES, SWITCH = 48, 16


def test_offline_run_in_a_style_then_another(tmp_path: Path) -> None:
    model = export_styled_model(tmp_path / "model")
    run = {
        "model": str(model),
        "source": "demo",
        "headless": True,
        "offline": True,
        "frames": FRAMES,
        "size": "320x180",
        "style": "watercolour",
    }
    app = App(load_config(None, {"run": run, "osc": {"listen": "off"}}))
    digests: list[str] = []
    latents: list[np.ndarray] = []
    weights: list[np.ndarray] = []

    def keep(rgb: np.ndarray, step: Step) -> None:
        digests.append(hashlib.sha1(rgb.tobytes()).hexdigest())
        latents.append(step.latent)
        weights.append(app.pipeline.integrator.weights.copy())
        if len(digests) == SWITCH:  # what /style/glass 1, /style/watercolour 0 would do
            app.pipeline.params.set("style.glass", 1.0, origin="osc")
            app.pipeline.params.set("style.watercolour", 0.0, origin="osc")

    app.on_frame = keep
    assert app.run() == 0
    assert len(digests) == FRAMES and len(set(digests)) > FRAMES // 2  # the picture lives
    styles = app.pipeline.styles
    np.testing.assert_array_equal(weights[0], [0, 1, 0])  # the config's style from the first frame
    np.testing.assert_array_equal(weights[-1], [0, 0, 1])
    assert build_status(app)["styles"] == {"marble": 0.0, "watercolour": 0.0, "glass": 1.0}
    integ = app.pipeline.integrator
    moves = np.linalg.norm(np.diff(np.array(latents), axis=0), axis=1)
    bound = integ.max_step(1 / app.cfg.run.offline_fps, 4.0)  # motion.speed's top: the widest bound
    jump = float(np.linalg.norm(styles.means[2] - styles.means[1]))
    print(f"largest move {moves.max():.3f}, bound {bound:.3f}, style jump {jump:.3f}")  # 0.025 0.086 2.18
    assert moves.max() <= bound * (1 + 1e-4), (moves.max(), bound)  # no cut, before or after the switch
    # after the switch the latent heads for glass: closer to glass's centre than to watercolour's
    glass, water = styles.means[2], styles.means[1]
    before = np.linalg.norm(latents[SWITCH - 1] - glass) - np.linalg.norm(latents[SWITCH - 1] - water)
    after = np.linalg.norm(latents[-1] - glass) - np.linalg.norm(latents[-1] - water)
    assert before > 0 > after, (before, after)

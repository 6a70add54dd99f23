"""[params] in the config file: a value the registry would clamp, or a name it does not know, stops the
start in one line (exit 2) and is refused on SIGHUP with the running values kept.

A fader is clamped on purpose; a number written in a file is a promise, and a silently different one is
found weeks later in the gallery."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import load_config

ROOT = Path(__file__).resolve().parents[1]
BASE = ["--source", "demo", "--headless", "--size", "320x180", "--osc-in", "off", "--frames", "2"]


def run_with(tmp_path: Path, params: str) -> subprocess.CompletedProcess:
    cfg = tmp_path / "piece.toml"
    cfg.write_text(f"[params]\n{params}\n")
    return subprocess.run(
        [sys.executable, "run_installation.py", *BASE, "--config", str(cfg)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("params", "line"),
    [
        ('"mirror.gain" = 99', "config error: params.mirror.gain = 99 is out of range 0..3"),
        ('"fx.brightness" = -1.5', "config error: params.fx.brightness = -1.5 is out of range -1..1"),
        ("mirror.gian = 1", "config error: params.mirror.gian: unknown parameter (known: "),
    ],
    ids=["above", "below", "unknown"],
)
def test_a_bad_param_fails_at_start_in_one_line(tmp_path: Path, params: str, line: str) -> None:
    r = run_with(tmp_path, params)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith(line), (r.returncode, r.stderr)


def test_sighup_refuses_an_out_of_range_param_and_keeps_the_running_one(tmp_path, monkeypatch, caplog):
    from engine.app import App

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    path = tmp_path / "piece.toml"
    path.write_text('[params]\n"mirror.gain" = 1.5\n')
    overrides = {"run": {"source": "demo", "headless": True, "size": "320x180"}, "osc": {"listen": "off"}}
    app = App(load_config(path, overrides), reload=lambda: load_config(path, overrides))
    try:
        params = app.pipeline.params
        assert params.get("mirror.gain") == 1.5
        path.write_text('[params]\n"mirror.gain" = 2.5\n')  # in range: applied
        app.reloader.request()
        app.reloader.apply_pending()
        assert params.get("mirror.gain") == 2.5 and app.cfg.params == {"mirror.gain": 2.5}
        path.write_text('[params]\n"mirror.gain" = 99\n"fx.contrast" = 2\n')
        with caplog.at_level(logging.ERROR, logger="engine.reload"):
            app.reloader.request()
            app.reloader.apply_pending()
        assert params.get("mirror.gain") == 2.5 and params.get("fx.contrast") == 1.0  # nothing half-applied
        assert app.cfg.params == {"mirror.gain": 2.5}
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
            "SIGHUP: config not reloaded, the running one stays: params.mirror.gain = 99 is out of range 0..3"
        ]
    finally:
        app.pipeline.close()

"""A bad config stops the start with one line naming the key (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def test_defaults_and_overrides(tmp_path: Path) -> None:
    cfg = load_config(
        write(tmp_path, '[run]\nscene = "mirror"\nfps = 50\n[latent]\nspeed = 3\n'), {"run": {"fps": 30.0}}
    )
    assert cfg.run.fps == 30.0 and cfg.latent.speed == 3.0 and cfg.run.size_px() == (1280, 720)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[latent]\nsped = 3\n", "unknown key 'latent.sped'"),
        ("[latent]\nspeed = 500\n", "latent.speed = 500 is out of range"),
        ("[run]\nfps = 'fast'\n", "run.fps = 'fast' must be a number"),
        ("[generator]\nprovider = 'metal'\n", "generator.provider = 'metal' must be one of"),
        ("[perception]\npose_every = 0\n", "pose_every"),
        ("[camra]\nwidth = 1\n", "unknown section 'camra'"),
        ("[run]\nsize = '12x'\n", "run.size"),
        ("[run\n", "invalid TOML"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, text))
    assert needle in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("speed", 0.01, "latent.speed = 0.01 is out of range 0.05..50"),
        ("smoothing", -0.1, "latent.smoothing = -0.1 is out of range 0.0..10"),
        ("drift_period", 601, "latent.drift_period = 601 is out of range 0.5..600"),
        ("seed", 2**31, "latent.seed = 2147483648 is out of range 0..2147483647"),
        ("seed", 1.5, "latent.seed = 1.5 must be an integer"),
    ],
)
def test_latent_ranges_come_from_the_fields(key: str, value: object, needle: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(None, {"latent": {key: value}})
    assert str(e.value) == needle


def test_every_number_in_the_config_declares_its_range() -> None:
    """One mechanism: a number field's range is its metadata (engine.config_meta.rng), so the file
    and the code cannot disagree. An osc.map's input/output range may be any numbers."""
    import dataclasses

    from engine.config import Config, OscTargetSettings
    from engine.config_meta import field_types
    from engine.control.osc.mapping import OscMapping

    sections = [field_types(Config)[f.name] for f in dataclasses.fields(Config) if f.name != "params"]
    unbounded = {("OscMapping", n) for n in ("in_lo", "in_hi", "out_lo", "out_hi")}
    missing = [
        f"{cls.__name__}.{f.name}"
        for cls in (*sections, OscTargetSettings, OscMapping)
        for f in dataclasses.fields(cls)
        if field_types(cls)[f.name] in (int, float)
        and "lo" not in f.metadata
        and (cls.__name__, f.name) not in unbounded
    ]
    assert not missing, f"number fields without rng(...) metadata: {missing}"


def test_cli_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "[latent]\nspeed = -1\n")
    r = subprocess.run(
        [sys.executable, str(ROOT / "run_installation.py"), "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "latent.speed" in lines[0] and "out of range" in lines[0]


def test_cli_unknown_scene_and_param(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "run_installation.py"), "--scene", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "unknown scene 'nope'" in r.stderr


def test_cli_list_scenes_and_help() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "run_installation.py"), "--list-scenes"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    listed = {line.split()[0] for line in r.stdout.splitlines() if line.strip()}
    assert r.returncode == 0 and {"mirror", "drift", "crowd", "conductor", "pulse"} <= listed
    h = subprocess.run(
        [sys.executable, str(ROOT / "run_installation.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    for flag in (
        "--scene",
        "--source",
        "--headless",
        "--frames",
        "--record",
        "--offline",
        "--fullscreen",
        "--display",
        "--size",
        "--config",
        "--model",
        "--osc-out",
        "--stats",
        "--list-scenes",
        "--log-level",
    ):
        assert flag in h.stdout


def test_cli_no_display_is_one_line_exit_2() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "run_installation.py"),
            "--source",
            "demo",
            "--frames",
            "2",
            "--osc-in",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert r.returncode == 2
    assert "no display found" in r.stderr and "--headless" in r.stderr and "Traceback" not in r.stderr


def test_cli_missing_video_is_named() -> None:
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "run_installation.py"),
            "--source",
            "/nope/clip.mp4",
            "--headless",
            "--osc-in",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "/nope/clip.mp4" in r.stderr and "Traceback" not in r.stderr

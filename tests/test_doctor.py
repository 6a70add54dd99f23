"""`python -m engine.doctor`: passes on this machine, and names each problem of a broken set-up."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from engine import doctor
from engine.config import load_config

ROOT = Path(__file__).resolve().parents[1]
# /sys refuses new files even to root, for whom os.access says yes: only a real write tells
UNWRITABLE = Path("/sys/kernel")


def run_doctor(*flags: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.doctor", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def lines(out: str) -> dict[str, list[str]]:
    """check name → its report lines ('LEVEL name detail')."""
    by_name: dict[str, list[str]] = {}
    for line in out.splitlines()[:-1]:
        level, name, _ = line.split(None, 2)
        by_name.setdefault(name, []).append(line)
    return by_name


@pytest.fixture
def broken_model(tmp_path: Path, shipped_model: Path) -> Path:
    """The shipped model with its generator.onnx cut short, as an interrupted copy leaves it."""
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("manifest.json", "mapping.onnx"):
        shutil.copy(shipped_model / name, folder / name)
    (folder / "generator.onnx").write_bytes((shipped_model / "generator.onnx").read_bytes()[:100_000])
    return folder


@pytest.mark.slow
def test_doctor_passes_on_this_machine(tmp_path: Path) -> None:
    flags = ["--headless", "--source", "demo", "--osc-in", "127.0.0.1:0", "--http", "127.0.0.1:0"]
    flags += ["--stats", str(tmp_path / "s.json"), "--record", str(tmp_path / "out.mp4")]
    r = run_doctor(*flags)
    assert r.returncode == 0, r.stdout + r.stderr
    report = lines(r.stdout)
    for name in ("config", "egl", "display", "cameras", "source", "model", "ort-cpu", "trt-cache", "ports"):
        assert name in report, r.stdout
    for name in ("paths", "disk", "mediapipe"):
        assert name in report, r.stdout
    assert not any(line.startswith("FAIL") for line in r.stdout.splitlines()), r.stdout
    assert r.stdout.splitlines()[-1].startswith("0 failure(s)") and r.stdout.rstrip().endswith("ready")
    assert report["source"] == ["OK    source     'demo' gives frames (640x480)"]
    assert report["ort-cpu"][0].startswith("OK    ort-cpu    runs a frame (")
    assert len(report["paths"]) == 2 and all(line.startswith("OK") for line in report["paths"])
    assert r.stderr == "", r.stderr  # MediaPipe's and OpenCV's native noise stays out of the report
    assert not list(tmp_path.iterdir())  # the write probes leave nothing behind

    r = run_doctor(*flags, "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["ok"] is True
    assert {c["level"] for c in doc["checks"]} <= {"OK", "WARN"}
    assert all(set(c) == {"name", "level", "detail", "seconds"} for c in doc["checks"])


@pytest.mark.slow
def test_doctor_fails_a_broken_set_up(broken_model: Path, tmp_path: Path) -> None:
    """A truncated generator.onnx, a port another engine holds, an unwritable stats folder, no display."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        r = run_doctor(
            "--source",
            "demo",
            "--model",
            str(broken_model),
            "--osc-in",
            f"127.0.0.1:{port}",
            "--stats",
            str(UNWRITABLE / "stats.json"),
            env=env,
        )
    assert r.returncode == 1, r.stdout + r.stderr
    report = lines(r.stdout)
    onnx = broken_model / "generator.onnx"
    assert report["model"][0].startswith(f"FAIL  model      {onnx}: cannot be loaded by onnxruntime: "), (
        r.stdout
    )
    assert report["providers"] == ["WARN  providers  not tried: the model does not load (see model)"]
    assert report["ports"] == [
        f"FAIL  ports      osc.listen UDP 127.0.0.1:{port} cannot be bound: Address already in use "
        "(another engine running?)"
    ]
    assert report["paths"] == [
        f"FAIL  paths      run.stats = '{UNWRITABLE}/stats.json': cannot write in {UNWRITABLE} "
        "(Permission denied)"
    ]
    assert report["display"] == ["FAIL  display    no display (set DISPLAY, or run.headless / --headless)"]
    verdict = r.stdout.splitlines()[-1]
    assert verdict.startswith("4 failure(s), ") and verdict.endswith(
        ": the piece would not run as configured"
    )
    assert "Traceback" not in r.stdout + r.stderr


def test_a_bad_config_is_one_line_and_the_rest_still_runs(tmp_path: Path) -> None:
    bad = tmp_path / "gallery.toml"
    bad.write_text('[latent]\nspeed = 500\n[http]\nlisten = "0.0.0.0:8080"\n')
    check, cfg = doctor.load(["--config", str(bad)])
    assert check.level == "FAIL"
    assert (
        check.detail
        == f"{bad}: latent.speed = 500 is out of range 0.05..50 (the other checks use the defaults)"
    )
    assert cfg.latent.speed == load_config(None).latent.speed


def test_paths_ports_and_disk(tmp_path: Path) -> None:
    cfg = load_config(
        None,
        {
            "run": {"stats": str(tmp_path / "missing" / "s.json"), "record": str(tmp_path / "out.txt")},
            "log": {"file": str(tmp_path / "logs" / "deeper" / "engine.log")},  # folders made at start
        },
    )
    got = [(c.level, c.detail) for c in doctor.check_paths(cfg)]
    assert got == [
        ("FAIL", f"run.record = '{tmp_path}/out.txt' must end in .mp4 or .mov or .mkv"),
        ("FAIL", f"run.stats = '{tmp_path}/missing/s.json': folder {tmp_path}/missing does not exist"),
        ("OK", f"log.file: {tmp_path} is writable"),
    ]
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        cfg = load_config(None, {"osc": {"listen": "off"}, "http": {"listen": f"127.0.0.1:{port}"}})
        (check,) = doctor.check_ports(cfg)
    assert check.level == "FAIL" and check.detail.startswith(
        f"http.listen TCP 127.0.0.1:{port} cannot be bound"
    )
    (check,) = doctor.check_ports(load_config(None, {"osc": {"listen": "off"}}))
    assert (check.level, check.detail) == ("OK", "no listening ports configured")
    assert [doctor.disk_level(b) for b in (50e6, 500e6, 5e9)] == ["FAIL", "WARN", "OK"]
    disks = doctor.check_disk(load_config(None))  # one line per filesystem: the engine's and the cache's
    assert any(c.detail.startswith(" ".join(c.detail.split()[:2])) and "engine" in c.detail for c in disks)
    assert all(c.detail.split()[1:3] == ["GB", "free"] for c in disks)


def test_a_check_that_breaks_is_a_fail_line_not_a_traceback() -> None:
    def check_surprise(cfg) -> list:
        raise KeyError("GL_RENDERER")

    (check,) = doctor.run_checks(load_config(None), (check_surprise,))
    assert (check.name, check.level, check.detail) == ("surprise", "FAIL", "KeyError: 'GL_RENDERER'")

"""The command line as an operator meets it: bad output paths fail at start in one line, signals
end the run cleanly with the stats and a playable recording, SIGHUP reloads, Ctrl-C is quiet,
and a recorder that fails mid-run (a full disk) stops recording while the picture goes on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg
import pytest

ROOT = Path(__file__).resolve().parents[1]
BASE = ["--source", "demo", "--headless", "--size", "320x180", "--osc-in", "off"]


def start(*args: str, log: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "run_installation.py", *BASE, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "run_installation.py", *BASE, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def mp4_frames(path: Path) -> tuple[int, float]:
    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    return sum(1 for _ in gen), float(meta["fps"])


@pytest.mark.parametrize(
    ("flag", "path", "message"),
    [
        ("--record", "missing/out.mp4", "folder missing does not exist"),
        ("--record", "out.txt", "must end in .mp4"),
        ("--record", "ro/out.mp4", "no permission"),
        ("--record", "ro", "must end in .mp4"),
        ("--record", "folder.mp4", "is a folder"),
        ("--stats", "missing/s.json", "run.stats"),
    ],
)
def test_a_bad_output_path_fails_at_start_in_one_line(tmp_path, flag, path, message) -> None:
    (tmp_path / "ro").mkdir()
    (tmp_path / "folder.mp4").mkdir()
    (tmp_path / "ro").chmod(0o500)
    if os.geteuid() == 0 and flag == "--record" and path.startswith("ro/"):
        pytest.skip("root may write into a read-only folder")
    out = subprocess.run(
        [sys.executable, str(ROOT / "run_installation.py"), *BASE, flag, path],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in out.stderr, out.stderr


def test_unknown_scene_message_has_no_stray_quotes() -> None:
    out = run("--scene", "nope", timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "config error: unknown scene 'nope' (available: conductor, crowd, drift, mirror, pulse)"
    )


@pytest.mark.slow
def test_sigterm_finishes_the_recording_and_writes_stats(tmp_path) -> None:
    video, stats = tmp_path / "out.mp4", tmp_path / "s.json"
    proc = start("--record", str(video), "--stats", str(stats))
    try:
        time.sleep(8)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    summary = json.loads(stats.read_text())
    assert summary["presented"] > 10 and summary["exit"] == "0"
    frames, fps = mp4_frames(video)
    # the file plays as long as the frames were shown: frames/fps ≈ presented / presented-fps
    shown_s = (summary["presented"] - 1) / summary["fps"]
    assert abs(frames / fps - shown_s) < 0.25 * shown_s + 0.2, (frames, fps, shown_s)
    assert "Traceback" not in out


@pytest.mark.slow
def test_sighup_reloads_the_config_file_and_the_run_goes_on(tmp_path) -> None:
    cfg = tmp_path / "piece.toml"
    cfg.write_text('[params]\n"mirror.gain" = 1.0\n')
    stats = tmp_path / "s.json"
    proc = start("--config", str(cfg), "--stats", str(stats))
    try:
        time.sleep(6)
        cfg.write_text('[params]\n"mirror.gain" = 1.5\n[run]\n[camera]\nwidth = 320\n')
        proc.send_signal(signal.SIGHUP)
        time.sleep(2)
        cfg.write_text("[latent]\nspeed = 500\n")  # out of range: refused, the run goes on
        proc.send_signal(signal.SIGHUP)
        time.sleep(2)
        assert proc.poll() is None, "SIGHUP ended the process"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert "SIGHUP: config reloaded (1 changes)" in out
    assert "need a restart: camera.width" in out
    assert "config not reloaded" in out and "latent.speed = 500 is out of range" in out
    assert json.loads(stats.read_text())["presented"] > 10


@pytest.mark.slow
def test_ctrl_c_while_models_load_prints_no_traceback() -> None:
    proc = start()
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out
    assert proc.returncode in (0, 130)


@pytest.mark.slow
def test_a_full_disk_stops_the_recording_not_the_picture(tmp_path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs (a real full disk)")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=100k", "tmpfs", str(disk)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        stats = tmp_path / "s.json"
        out = run(
            "--record",
            str(disk / "out.mp4"),
            "--stats",
            str(stats),
            "--frames",
            "150",
            "--size",
            "640x360",
            timeout=180,
        )
        assert out.returncode == 0, out.stderr
        summary = json.loads(stats.read_text())
        assert summary["presented"] == 150  # --frames reached: the picture went on
        stopped = [ln for ln in out.stderr.splitlines() if "recording to" in ln and "stopped" in ln]
        assert len(stopped) == 1, out.stderr  # said once
        assert "Traceback" not in out.stderr
    finally:
        subprocess.run(["umount", str(disk)])

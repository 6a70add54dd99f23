"""Every line a running engine prints is ours, journald gets levels, and the log file stays small."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.logs import JOURNAL_LINE, PLAIN_LINE, QUIET_ENV, open_log_file, under_journal

ROOT = Path(__file__).resolve().parents[1]
ENGINE = [sys.executable, str(ROOT / "run_installation.py")]
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def fresh_env() -> dict[str, str]:
    """The environment of a fresh shell: none of the switches the engine must set for itself."""
    return {k: v for k, v in os.environ.items() if k not in QUIET_ENV and k != "JOURNAL_STREAM"}


def lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


@pytest.mark.slow
@pytest.mark.parametrize("source", ["demo", "0"])
def test_a_fresh_start_prints_only_our_lines(tmp_path: Path, source: str) -> None:
    """The real engine for 60 frames: MediaPipe, TFLite, OpenCV's camera probe and pygame all load,
    and nothing of theirs reaches the terminal; the log file (in a folder it creates) says the same."""
    log = tmp_path / "logs" / "deep" / "engine.log"
    args = ["--source", source, "--headless", "--frames", "60", "--osc-in", "off", "--log-file", str(log)]
    r = subprocess.run(ENGINE + args, capture_output=True, text=True, timeout=180, env=fresh_env(), cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    foreign = [ln for ln in lines(r.stdout) + lines(r.stderr) if not PLAIN_LINE.match(ln)]
    assert foreign == [], "lines that are not ours:\n" + "\n".join(foreign)
    assert r.stdout.strip() == ""  # the log is on stderr, as before
    out = lines(r.stderr)
    assert any("generator.onnx runs on CPUExecutionProvider" in ln for ln in out)
    if source == "0" and not Path("/dev/video0").exists():
        assert any("camera:0 not found" in ln for ln in out)
    assert lines(log.read_text()) == out


@pytest.mark.slow
def test_under_journald_lines_carry_a_level_and_no_time() -> None:
    """$JOURNAL_STREAM names stderr's device:inode, as systemd sets it: `<N>name: message` lines, and
    MediaPipe's C++ warnings arrive as our DEBUG lines (`<7>`), once each."""
    read_fd, write_fd = os.pipe()
    st = os.fstat(write_fd)
    env = {**fresh_env(), "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
    args = ["--source", "demo", "--headless", "--frames", "30", "--osc-in", "off", "--log-level", "DEBUG"]
    proc = subprocess.Popen(ENGINE + args, stdout=subprocess.PIPE, stderr=write_fd, env=env, cwd=ROOT)
    os.close(write_fd)
    with os.fdopen(read_fd, encoding="utf-8", errors="replace") as f:
        out = lines(f.read())
    stdout = proc.stdout.read().decode() if proc.stdout else ""
    assert proc.wait(timeout=180) == 0, "\n".join(out) + stdout
    assert stdout.strip() == ""
    assert [ln for ln in out if not JOURNAL_LINE.match(ln) or TIMESTAMP.search(ln)] == []
    assert any(ln.startswith("<6>engine.generator.providers: ") for ln in out)
    feedback = [ln for ln in out if "Feedback manager requires" in ln]
    assert len(feedback) == 1 and feedback[0].startswith("<7>native: ")


def test_native_stderr_becomes_our_lines() -> None:
    """What C code writes to fd 2: known harmless lines once at DEBUG, others at the level their own
    prefix says, repeats throttled; Python's own stderr still reaches the real stderr."""
    code = r"""
import os, sys
from engine.logs import setup_logging
setup_logging("DEBUG")
harmless = (b"W0000 00:00:1795987346.484629    5351 inference_feedback_manager.cc:114] "
            b"Feedback manager requires a model with a single signature inference.\n")
for _ in range(3):
    os.write(2, harmless)
os.write(2, b"E0000 00:00:1795987347.1  77 some_calculator.cc:12] frame 41 broke\n")
os.write(2, b"E0000 00:00:1795987347.2  77 some_calculator.cc:12] frame 42 broke\n")
os.write(2, b"[ WARN:0@1.2] global cap_v4l.cpp:1 open VIDEOIO(V4L2:/dev/video9): can't open camera\n")
os.write(2, b"a bare line with no prefix")
print("python's own stderr", file=sys.stderr)
"""
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT, env=fresh_env()
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    out = lines(r.stderr)
    assert out.count("python's own stderr") == 1  # straight to the real stderr, not through the pipe
    out.remove("python's own stderr")
    assert all(PLAIN_LINE.match(ln) for ln in out), out
    body = [ln.split(" ", 2)[2] for ln in out]  # "LEVEL name: message"
    assert body == [
        "DEBUG native: inference_feedback_manager.cc:114] Feedback manager requires a model with a single "
        "signature inference. (harmless: MediaPipe model load; repeats hidden)",
        "ERROR native: some_calculator.cc:12] frame 41 broke",
        "WARNING native: global cap_v4l.cpp:1 open VIDEOIO(V4L2:/dev/video9): can't open camera",
        "WARNING native: a bare line with no prefix",
    ]


def test_journal_is_recognised_by_device_and_inode(monkeypatch: pytest.MonkeyPatch) -> None:
    read_fd, write_fd = os.pipe()
    try:
        st = os.fstat(write_fd)
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        assert under_journal(write_fd)
        assert not under_journal(read_fd + 1000)  # not open
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino + 1}")  # stdout redirected elsewhere
        assert not under_journal(write_fd)
        monkeypatch.delenv("JOURNAL_STREAM")
        assert not under_journal(write_fd)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def write_lines(handler: logging.Handler, count: int) -> list[str]:
    logger = logging.getLogger(f"test.rotate.{id(handler)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    msgs = [f"line {i:05d} " + "x" * 70 for i in range(count)]
    for m in msgs:
        logger.info(m)
    handler.close()
    logger.removeHandler(handler)
    return msgs


def test_the_file_rotates_at_its_size(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "engine.log"
    msgs = write_lines(open_log_file(str(path), max_mb=0.1, backups=2), 3500)  # ~370 KB
    limit = 0.1 * 1024 * 1024
    files = [path, path.with_name("engine.log.1"), path.with_name("engine.log.2")]
    assert sorted(p.name for p in path.parent.iterdir()) == ["engine.log", "engine.log.1", "engine.log.2"]
    for p in files:
        assert p.stat().st_size <= limit
    for p in files[1:]:
        assert p.stat().st_size > 0.9 * limit  # rotated when full, not early
    kept = [ln for p in reversed(files) for ln in p.read_text().splitlines()]
    assert all(PLAIN_LINE.match(ln) for ln in kept)
    # oldest to newest without a gap, ending with the last line written
    assert [ln.split(": ", 1)[1] for ln in kept] == msgs[-len(kept) :]


def test_no_backups_means_the_file_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "engine.log"
    msgs = write_lines(open_log_file(str(path), max_mb=0.1, backups=0), 3500)
    assert [p.name for p in tmp_path.iterdir()] == ["engine.log"]
    assert 0 < path.stat().st_size <= 0.1 * 1024 * 1024
    assert path.read_text().splitlines()[-1].endswith(msgs[-1])


def test_an_unwritable_log_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    bad = tmp_path / "a-file" / "engine.log"  # unwritable even for root
    r = subprocess.run(
        ENGINE
        + ["--source", "demo", "--headless", "--frames", "5", "--osc-in", "off", "--log-file", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        env=fresh_env(),
        cwd=ROOT,
    )
    assert r.returncode == 2
    err = lines(r.stderr)
    assert len(err) == 1 and "log.file" in err[0] and str(bad) in err[0] and "Traceback" not in r.stderr
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f'[log]\nfile = "{bad}"\n')
    r = subprocess.run(
        ENGINE + ["--config", str(cfg), "--source", "demo", "--headless", "--frames", "5", "--osc-in", "off"],
        capture_output=True,
        text=True,
        timeout=60,
        env=fresh_env(),
        cwd=ROOT,
    )
    assert r.returncode == 2 and len(lines(r.stderr)) == 1 and "log.file" in r.stderr

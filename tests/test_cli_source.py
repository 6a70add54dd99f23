"""A bad --source file, as a new user would give it: the only thing printed is one line of ours
naming the file, with exit code 2; FFmpeg's own complaint ("moov atom not found") no longer comes
first."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("name", "content", "line"),
    [
        ("empty.mp4", b"", "error: video file empty.mp4 is empty (0 bytes)"),
        (
            "junk.mp4",
            b"\0" * 4096 + b"not a video",
            "error: cannot open video file junk.mp4: not a format OpenCV's FFmpeg can decode",
        ),
    ],
)
def test_a_bad_video_file_is_one_line_and_exit_2(
    tmp_path: Path, name: str, content: bytes, line: str
) -> None:
    (tmp_path / name).write_bytes(content)
    command = [
        sys.executable,
        str(ROOT / "run_installation.py"),
        "--source",
        name,
        "--headless",
        "--frames",
        "5",
    ]
    command += ["--osc-in", "off"]  # never collide with an engine running on this machine
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    took = time.perf_counter() - t0
    assert done.stderr == line + "\n", done.stderr
    assert done.returncode == 2
    assert "Traceback" not in done.stdout
    assert "moov atom" not in done.stdout  # quiet at the source, not only turned into a log line
    print(f"\nFAULT {name}: exit {done.returncode} after {took:.1f} s, stderr {done.stderr.strip()!r}")

"""Smoke test of the real window path: pygame + ModernGL on an X server (Xvfb), no mocks."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

XVFB = shutil.which("Xvfb")
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(XVFB is None, reason="Xvfb not installed (apt-get install -y xvfb)")


@pytest.fixture(scope="module")
def x_display():
    """A private Xvfb. `-displayfd` lets it pick a free display number, so parallel test runs (or an
    Xvfb :99 someone else started) never collide."""
    assert XVFB is not None
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [XVFB, "-displayfd", str(write_fd), "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 15.0)
        number = os.read(read_fd, 16).decode().strip() if ready else ""
        if not number:
            pytest.skip("Xvfb did not start within 15 s")
        yield f":{number}"
    finally:
        os.close(read_fd)
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_window_renders_presents_and_reads_back(x_display):
    """Opens the pygame window surface, renders and presents 10 frames, reads them back, checks
    pixels, keys and a fullscreen round trip (see window_check.py), in a child process."""
    env = {**os.environ, "DISPLAY": x_display, "SDL_VIDEODRIVER": "x11", "PYTHONPATH": str(ROOT)}
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.render.window_check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"window check failed:\n{result.stdout}\n{result.stderr}"
    assert "window check ok" in result.stdout

"""The Pure Data example of docs/osc.md, run in a real Pd (skipped where Pd is not installed).

The patch is taken from the docs as written, with its ports swapped for free
ones and a few objects added that press its buttons (Pd runs without a GUI)
and print what it receives.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import RunningApp, engine_config
from .test_liblo import free_udp_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("pd"), reason="Pure Data not installed (Debian: puredata-core)"),
]

DOC = Path(__file__).resolve().parents[2] / "docs" / "osc.md"


def doc_patch() -> str:
    text = DOC.read_text(encoding="utf-8")
    patch = re.search(r"```\n(#N canvas.*?)```", text, re.S)
    assert patch, "no Pd patch in docs/osc.md"
    return patch.group(1)


def test_the_documented_pd_patch_talks_to_the_engine(tmp_path) -> None:
    pd_port = free_udp_port()
    running = RunningApp(engine_config(tmp_path, offline=False, frames=0, out=[f"127.0.0.1:{pd_port}"]))
    try:
        engine_port = running.osc_address[1]
        patch = doc_patch().replace("9001", str(pd_port))
        patch = patch.replace("localhost 9000", f"localhost {engine_port}")
        n = patch.count("\n#X obj") + patch.count("\n#X msg") + patch.count("\n#X floatatom")
        harness = [
            "#X obj 500 20 loadbang;",  # n
            "#X obj 500 50 print SMILE;",  # n+1
            "#X obj 500 80 print SPEED;",  # n+2
            "#X msg 500 110 2.5;",  # n+3
            "#X msg 500 140 1;",  # n+4
            f"#X connect {n} 0 10 0;",  # connect
            f"#X connect {n} 0 {n + 3} 0;",
            f"#X connect {n + 3} 0 11 0;",  # the gain number box
            f"#X connect {n} 0 {n + 4} 0;",
            f"#X connect {n + 4} 0 17 0;",  # the beat toggle on
            f"#X connect 4 0 {n + 1} 0;",
            f"#X connect 8 0 {n + 2} 0;",
        ]
        path = tmp_path / "example.pd"
        path.write_text(patch.rstrip("\n") + "\n" + "\n".join(harness) + "\n")
        pd = subprocess.Popen(
            ["pd", "-nogui", "-noaudio", "-nomidi", "-stderr", "-open", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            pipeline = running.app.pipeline
            end = time.monotonic() + 15
            while (pipeline.params.get("mirror.gain") != 2.5 or pipeline.sync.beat_count < 3) and (
                time.monotonic() < end
            ):
                time.sleep(0.05)
            assert pipeline.params.get("mirror.gain") == 2.5  # Pd's [oscformat] → /param/mirror.gain
            assert pipeline.sync.beat_count >= 3 and pipeline.sync.bpm() == pytest.approx(120, rel=0.1)
        finally:
            pd.terminate()
            out, _ = pd.communicate(timeout=10)
    finally:
        running.close()
    print(out[-600:])
    assert "SMILE:" in out and "SPEED:" in out  # Pd's [oscparse] unpacked the engine's bundles
    assert "error" not in out.lower() and "couldn't create" not in out.lower(), out

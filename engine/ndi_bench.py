"""What NDI out costs the loop, and what a real receiver gets.

    python -m engine.ndi_bench [--size 1280x720] [--fps 30] [--seconds 10] [--source demo]
                               [--config X.toml] [--json PATH]
    python -m engine.ndi_bench --transport [--size 1280x720] [--rates 30 60] [--seconds 8]

The first form runs the engine three times in one process, realtime and headless: without NDI, with
an NDI source nobody receives (should cost nothing: no pixels are read back), and with a receiver in
another process (engine.ndi_recv). Each row is the loop's presented frames/s over the same window,
taken after a warm-up (and, with the receiver, once it is connected), so model loading and
connection set-up do not count. The receiver's frames/s and latency come with the third row.

`--transport` leaves the engine out: engine.ndi's sender is fed frames of a known colour at an
exact rate, to show what the NDI path itself carries at that size (latency = reception time minus
the frame's presentation timecode, both on this machine's clock).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from engine import ndi_recv
from engine.app import App
from engine.config import load_config
from engine.ndi import NdiSender


def _wait(cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return False


def loop_fps(
    size: str, fps: float, seconds: float, source: str, ndi: str, receive: bool, config: Path | None
) -> dict:
    """One engine run: presented frames/s over `seconds` after warm-up; the receiver's figures."""
    run = {"source": source, "headless": True, "size": size, "fps": fps, "ndi": ndi}
    app = App(load_config(config, {"run": run, "osc": {"listen": "127.0.0.1:0"}}))
    thread = threading.Thread(target=app.run, name="bench-app", daemon=True)
    thread.start()
    row: dict = {"ndi": ("receiving" if receive else "no receiver") if ndi else "off"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "recv.json"
        proc = None
        try:
            if not _wait(lambda: app.presented > 0, 120):
                raise RuntimeError("the engine presented no frame within 120 s")
            if receive:
                proc = ndi_recv.spawn(ndi, out, seconds=seconds + 30)
                sender = app.output.ndi if app.output is not None else None
                if sender is None or not _wait(lambda: sender.connections > 0, 30):
                    raise RuntimeError("the NDI receiver did not connect within 30 s")
            time.sleep(2.0)  # warm-up: the first frames and the connection's start
            n0, t0 = app.presented, time.perf_counter()
            time.sleep(seconds)
            row["loop_fps"] = round((app.presented - n0) / (time.perf_counter() - t0), 2)
            if app.output is not None and app.output.ndi is not None:
                row["ndi_status"] = app.output.ndi.status()
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=20)
            app.stop.set()
            thread.join(timeout=60)
        if proc is not None:
            row["receiver"] = json.loads(out.read_text())["summary"]
    return row


def transport(size: tuple[int, int], rate: float, seconds: float) -> dict:
    """Frames of a known colour at an exact rate through engine.ndi's sender to a receiver process."""
    w, h = size
    name = f"ndi-bench-{rate:g}"
    with tempfile.TemporaryDirectory() as tmp, NdiSender(name, rate) as sender:
        out = Path(tmp) / "recv.json"
        proc = ndi_recv.spawn(name, out, seconds=seconds)
        try:
            if not _wait(lambda: sender.connections > 0, 30):
                raise RuntimeError("the NDI receiver did not connect within 30 s")
            t0, i = time.perf_counter(), 0
            while proc.poll() is None and time.perf_counter() - t0 < seconds + 5:
                if sender.wants_frames:
                    sender.offer(np.full((h, w, 3), (i % 256, 128, 255 - i % 256), np.uint8))
                i += 1
                time.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
            proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
        summary = json.loads(out.read_text())["summary"]
        return {"rate": rate, "receiver": summary, "sender": sender.status()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engine.ndi_bench", description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", type=float, default=30.0, help="the engine's fps cap")
    ap.add_argument("--seconds", type=float, default=10.0, help="measuring window per row")
    ap.add_argument("--source", default="demo")
    ap.add_argument("--config", type=Path)
    ap.add_argument("--transport", action="store_true", help="the NDI path alone, at --rates")
    ap.add_argument("--rates", type=float, nargs="+", default=[30.0, 60.0])
    ap.add_argument("--json", type=Path, help="write the rows here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)  # the engine's INFO lines would bury the rows
    rows: list[dict] = []
    if args.transport:
        w, h = (int(v) for v in args.size.lower().split("x"))
        for rate in args.rates:
            row = transport((w, h), rate, args.seconds)
            r = row["receiver"]
            print(
                f"{args.size} at {rate:g} fps: received {r['frames']} frames, {r['fps']} frames/s, "
                f"latency p50 {r['latency_ms']['p50']} ms p95 {r['latency_ms']['p95']} ms; "
                f"sender dropped {row['sender']['dropped']}"
            )
            rows.append(row)
    else:
        for ndi, receive in (("", False), ("ndi-bench-idle", False), ("ndi-bench", True)):
            row = loop_fps(args.size, args.fps, args.seconds, args.source, ndi, receive, args.config)
            line = f"NDI {row['ndi']:12s} loop {row['loop_fps']} fps"
            if "receiver" in row:
                r = row["receiver"]
                line += (
                    f"; receiver {r['fps']} frames/s, latency p50 {r['latency_ms']['p50']} ms "
                    f"p95 {r['latency_ms']['p95']} ms; sender dropped {row['ndi_status']['dropped']}"
                )
            print(line, flush=True)
            rows.append(row)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Loop benchmark: the same input realtime and offline in one run.

    python -m engine.bench [--source demo] [--frames 300] [--size 1280x720] [--json PATH]

Offline processes every frame in turn (perception → scene → latent →
generator → render), so its fps is the cost of one full pass. Realtime runs
the stages concurrently with latest-wins hand-offs, so presented fps is set by
the render loop and fresh images per second by the slowest stage. Both are
printed, with perception Hz, capture→present latency and frame pacing.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from pathlib import Path

from engine.app import App
from engine.config import load_config


def run_mode(
    source: str, frames: int, size: str, offline: bool, extra: dict, config: Path | None = None
) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "stats.json"
        run = {
            "source": source,
            "headless": True,
            "offline": offline,
            "frames": frames,
            "size": size,
            "stats": str(stats),
            **extra,
        }
        App(load_config(config, {"run": run})).run()
        return json.loads(stats.read_text())


def row(mode: str, s: dict) -> dict:
    hz = s["stages_hz"]
    fresh = s["fps_avg"] * (1 - s["repeated_frames"] / max(1, s["presented"]))
    return {
        "mode": mode,
        "presented_fps": s["fps_avg"],  # the whole run's average: a benchmark's figure, not the HUD's
        "fresh_images_per_s": round(fresh, 2),
        "perception_hz": hz.get("perception", 0.0),
        "generator_hz": hz.get("generator", 0.0),
        "perception_ms_p50": s["stages_ms"].get("perception", {}).get("p50", 0.0),
        "generator_ms_p50": s["stages_ms"].get("generator", {}).get("p50", 0.0),
        "render_ms_p50": s["stages_ms"].get("render", {}).get("p50", 0.0),
        "latency_ms_p50": s["latency_ms"]["p50"],
        "latency_ms_p95": s["latency_ms"]["p95"],
        "frame_ms_p50": s["frame_time_ms"]["p50"],
        "frame_ms_p99": s["frame_time_ms"]["p99"],
        "repeated": s["repeated_frames"],
        "dropped_source_frames": s["dropped_frames"],
        "provider": s.get("provider", "?"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default="demo")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", type=float, default=30.0, help="realtime render cap")
    ap.add_argument(
        "--config", type=Path, help="TOML settings for both runs (e.g. [perception] pose_every = 2)"
    )
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    off = row("offline", run_mode(args.source, args.frames, args.size, True, {}, args.config))
    rt = row("realtime", run_mode(args.source, args.frames, args.size, False, {"fps": args.fps}, args.config))
    ratio = rt["presented_fps"] / off["presented_fps"] if off["presented_fps"] else 0.0
    fresh_ratio = rt["fresh_images_per_s"] / off["presented_fps"] if off["presented_fps"] else 0.0
    keys = list(off)[1:]
    print(f"{'':24s}{'offline':>12s}{'realtime':>12s}")
    for k in keys:
        print(f"{k:24s}{off[k]!s:>12s}{rt[k]!s:>12s}")
    print(f"realtime/offline presented fps ratio: {ratio:.2f}   fresh images ratio: {fresh_ratio:.2f}")
    result = {
        "offline": off,
        "realtime": rt,
        "ratio_presented": round(ratio, 2),
        "ratio_fresh": round(fresh_ratio, 2),
        "frames": args.frames,
        "size": args.size,
    }
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The installation: camera → MediaPipe → GAN latent space → projector, in sync over OSC.

python run_installation.py --scene mirror
"""

from __future__ import annotations

import argparse
import sys

from engine.logs import LogFileError, quiet_native_env, setup_logging

quiet_native_env()  # before cv2, mediapipe and pygame load: their C logging is read at import

EXAMPLES = """examples:
  python run_installation.py --scene mirror                 camera 0, window
  python run_installation.py --source demo --fullscreen --display 1
  python run_installation.py --source demo --headless --frames 300 --record out.mp4 --stats s.json
  python run_installation.py --source visitor.mp4 --offline --headless --record render.mp4
  python run_installation.py --osc-in 0.0.0.0:9000 --osc-allow 192.168.1.0/24 \\
      --osc-feedback 192.168.1.30:9001 --osc-out 127.0.0.1:57120      TouchOSC + SuperCollider
keys: Esc quits, F fullscreen, D HUD, B blackout, J new keyframe, N/P next/previous scene, T tap tempo,
L MIDI learn (the last parameter changed binds to the next control moved).
OSC address space, mappings, TouchOSC and Pd examples: docs/osc.md
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="run_installation.py",
        description=__doc__.split("\n")[0],
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--scene", help="scene to run (default: mirror; see --list-scenes)")
    ap.add_argument("--source", help="camera index (0, 1, …), a video or image file, or 'demo' (default: 0)")
    ap.add_argument(
        "--headless",
        action="store_true",
        default=None,
        help="render offscreen through EGL, no window (servers, tests, recording)",
    )
    ap.add_argument("--frames", type=int, help="stop after N presented frames (default: run until Esc)")
    ap.add_argument(
        "--record", metavar="PATH.mp4", help="write the presented frames (never the camera) to mp4"
    )
    ap.add_argument(
        "--offline",
        action="store_true",
        default=None,
        help="process every source frame in order on a fixed-step clock: deterministic output",
    )
    ap.add_argument("--fullscreen", action="store_true", default=None, help="fullscreen window")
    ap.add_argument("--display", type=int, help="display (projector) index for the window (default: 0)")
    ap.add_argument("--size", metavar="WxH", help="output size (default: 1280x720)")
    ap.add_argument("--config", metavar="PATH.toml", help="TOML file with any setting (flags override it)")
    ap.add_argument("--model", metavar="DIR", help="generator folder (default: models/painterly)")
    ap.add_argument(
        "--provider",
        choices=("auto", "tensorrt", "cuda", "cpu"),
        help="force an ONNX Runtime execution provider (default: auto)",
    )
    ap.add_argument(
        "--generator",
        metavar="URL",
        help="run the generator on a Triton server: triton://HOST:PORT/MODEL (gRPC) or http://…; "
        "the manifest still comes from --model (docs/scale.md)",
    )
    ap.add_argument(
        "--osc-in",
        metavar="HOST:PORT",
        help="listen for OSC control here, or 'off' (default: 127.0.0.1:9000)",
    )
    ap.add_argument(
        "--osc-allow",
        metavar="IP[/BITS]",
        action="append",
        help="accept OSC from this address or network besides loopback (repeatable; '*' = anyone)",
    )
    ap.add_argument(
        "--osc-out",
        metavar="HOST:PORT",
        action="append",
        help="send viewer features, events, latent motion and fps here (sound systems; repeatable)",
    )
    ap.add_argument(
        "--osc-feedback",
        metavar="HOST:PORT",
        action="append",
        help="echo parameter changes and events here (controllers like TouchOSC; repeatable)",
    )
    ap.add_argument(
        "--midi-in",
        metavar="PORT",
        action="append",
        help="take MIDI from this port (its name or a part of it; repeatable; 'all' = every port); "
        "mappings and MIDI learn: docs/midi.md",
    )
    ap.add_argument(
        "--midi-out",
        metavar="PORT",
        action="append",
        help="send feedback (motor faders, LEDs) to this port (default: each input's own output)",
    )
    ap.add_argument(
        "--link",
        action="store_true",
        default=None,
        help="join the Ableton Link session: its tempo and beat drive the sync (pulse locks to the DJ); "
        "docs/link.md",
    )
    ap.add_argument(
        "--ndi",
        metavar="NAME",
        help="send the presented picture (never the camera) as an NDI source of this name, for "
        "Resolume, TouchDesigner, OBS, vMix; docs/ndi.md",
    )
    ap.add_argument("--oscquery", metavar="PORT", type=int, help="serve the OSCQuery JSON tree over HTTP")
    ap.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="serve the staff's web panel (/), GET /status (JSON) and /metrics (Prometheus) here; "
        "a bare PORT means 127.0.0.1:PORT; "
        "beyond loopback needs [http] password (default: off)",
    )
    ap.add_argument("--stats", metavar="PATH.json", help="write fps, stage ms, latency, frame times on exit")
    ap.add_argument("--hud", action="store_true", default=None, help="start with the HUD shown (toggle: D)")
    ap.add_argument(
        "--watch",
        action="store_true",
        default=None,
        help="reload edited scenes/*.py, shaders and the --config file live; "
        "a broken file keeps the last good version running (off by default)",
    )
    ap.add_argument(
        "--calibration",
        metavar="DIR",
        help="installation folder written by `python -m calibration` (lens, screen, projector, zone, ranges)",
    )
    ap.add_argument("--list-scenes", action="store_true", help="list scenes and exit")
    ap.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="default: INFO")
    ap.add_argument(
        "--log-file", metavar="PATH", help="also log to this file, rotated by size ([log] max_mb, backups)"
    )
    return ap.parse_args(argv)


def overrides(args: argparse.Namespace) -> dict[str, dict]:
    run = {
        k: getattr(args, k)
        for k in (
            "scene",
            "source",
            "headless",
            "frames",
            "record",
            "ndi",
            "offline",
            "fullscreen",
            "display",
            "size",
            "model",
            "stats",
            "hud",
            "log_level",
            "watch",
            "calibration",
        )
    }
    out: dict[str, dict] = {"run": {k: v for k, v in run.items() if v is not None}}
    generator = {"provider": args.provider, "remote": args.generator}
    if any(v is not None for v in generator.values()):
        out["generator"] = {k: v for k, v in generator.items() if v is not None}
    osc = {
        "listen": args.osc_in,
        "allow": args.osc_allow,
        "out": args.osc_out,
        "feedback": args.osc_feedback,
        "query_port": args.oscquery,
    }
    if any(v is not None for v in osc.values()):
        out["osc"] = {k: v for k, v in osc.items() if v is not None}
    midi = {"in": args.midi_in, "out": args.midi_out}
    if any(v is not None for v in midi.values()):
        out["midi"] = {k: v for k, v in midi.items() if v is not None}
    if args.link:
        out["link"] = {"enabled": True}
    if args.http is not None:
        out["http"] = {"listen": f"127.0.0.1:{args.http}" if args.http.strip().isdigit() else args.http}
    if args.log_file is not None:
        out["log"] = {"file": args.log_file}
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from engine.config import ConfigError, load_config
    from engine.generator.manifest import ModelError
    from engine.scene import scene_class, scene_names

    if args.list_scenes:
        for name in scene_names():
            print(f"{name:12s} {scene_class(name).description}")
        return 0
    try:
        cfg = load_config(args.config, overrides(args))
        scene_class(cfg.run.scene)
    except (ConfigError, KeyError) as e:
        print(f"config error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    from engine.sources import SourceError, check_source

    try:
        check_source(cfg.run.source)  # a bad --source is the only line printed, before models load
    except SourceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        setup_logging(cfg.run.log_level, cfg.log.file, cfg.log.max_mb, cfg.log.backups)
    except LogFileError as e:
        print(f"config error: {e}", file=sys.stderr)
        return 2
    from engine.app import App
    from engine.render.context import NoDisplayError

    try:
        reload = (lambda: load_config(args.config, overrides(args))) if args.config else None
        app = App(cfg, reload=reload, config_path=args.config)
        return app.run()
    except ConfigError as e:  # [params] checked against the registry: known only once scenes load
        print(f"config error: {e}", file=sys.stderr)
        return 2
    except (ModelError, SourceError, NoDisplayError, ValueError, ConnectionError) as e:
        # ConnectionError: --offline with a --generator server that does not answer (it needs every frame)
        print(f"error: {e}", file=sys.stderr)
        return 2


def interruptible_main(argv: list[str] | None = None) -> int:
    """Ctrl-C while models load (before the engine's own handler) ends quietly, like Ctrl-C later."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(interruptible_main())

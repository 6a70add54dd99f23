"""The doctor's run: the config read exactly as run_installation.py reads it, then every check in turn.

The order of CHECKS is the report's order (what shows the picture, what it sees, what it runs, what
the machine lends). A bad config or a check that breaks unexpectedly becomes one FAIL line and the
rest still run, so one visit to the machine finds every problem at once.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.doctor.base import FAIL, OK, ROOT, Check, first_line
from engine.doctor.display import check_display, check_egl
from engine.doctor.models import check_mediapipe, check_model, check_providers, check_tensorrt_cache
from engine.doctor.resources import check_disk, check_paths, check_ports
from engine.doctor.sources import check_cameras, check_source

if TYPE_CHECKING:
    from engine.config import Config

CHECKS: tuple[Callable, ...] = (
    check_egl,
    check_display,
    check_cameras,
    check_source,
    check_model,
    check_providers,
    check_tensorrt_cache,
    check_ports,
    check_paths,
    check_disk,
    check_mediapipe,
)


def _run_installation():
    """run_installation.py's own flag parser, so the doctor reads a command line exactly as it does."""
    spec = importlib.util.spec_from_file_location("run_installation", ROOT / "run_installation.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(argv: list[str]) -> tuple[Check, Config]:
    """The config as run_installation.py would load it; on an error, the defaults for the other checks."""
    from engine.config import Config, ConfigError, load_config
    from engine.scene import scene_class

    ri = _run_installation()
    args = ri.parse_args(argv)
    t0 = time.perf_counter()
    try:
        cfg = load_config(args.config, ri.overrides(args))
        scene_class(cfg.run.scene)
    except (ConfigError, KeyError) as e:
        detail = f"{e.args[0] if e.args else e} (the other checks use the defaults)"
        return Check("config", FAIL, detail, time.perf_counter() - t0), Config()
    r = cfg.run
    what = f"{args.config} is valid" if args.config else "no config file: defaults and flags"
    mode = "headless" if r.headless else f"window on display {r.display}"
    detail = f"{what}; scene {r.scene}, source {r.source}, {r.size}, {mode}"
    return Check("config", OK, detail, time.perf_counter() - t0), cfg


def run_checks(cfg: Config, checks: tuple[Callable, ...] = CHECKS) -> list[Check]:
    """Every check, in turn; one that breaks unexpectedly is a FAIL line, never a traceback."""
    out: list[Check] = []
    for fn in checks:
        t0 = time.perf_counter()
        try:
            results = fn(cfg)
        except Exception as e:  # noqa: BLE001 - the report must reach the end
            results = [Check(fn.__name__.removeprefix("check_"), FAIL, first_line(e))]
        for c in results:
            c.seconds = round(time.perf_counter() - t0, 3)
        out += results
    return out

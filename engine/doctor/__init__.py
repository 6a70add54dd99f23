"""`python -m engine.doctor`: is this machine ready for opening day? One line per check, then exit 1
if the piece would not run.

Everything the installation needs is tried for real, the way the engine will use it, because the
failures that matter in a gallery are the ones a config file cannot show: a driver that lists a GPU
provider but falls back to the CPU, a port another process holds, a folder that is read-only, a
model file truncated by a copy. Each check is one small function that returns OK, WARN (the piece
runs, but not as intended: no camera means attract mode) or FAIL (it would not start, or would run
without something configured). It takes the same flags and config as run_installation.py.

The checks are grouped by what they look at: display (EGL, the window), sources (cameras, the
configured source), models (generator, providers, TensorRT cache, MediaPipe) and resources (ports,
writable folders, disk); runner orders and runs them, report prints the result, __main__ is the
command line. Heavy libraries load inside the checks, never on import.
"""

from engine.doctor.base import FAIL, OK, WARN, Check
from engine.doctor.display import check_display, check_egl
from engine.doctor.models import check_mediapipe, check_model, check_providers, check_tensorrt_cache
from engine.doctor.report import report, report_json
from engine.doctor.resources import check_disk, check_paths, check_ports, disk_level
from engine.doctor.runner import CHECKS, load, run_checks
from engine.doctor.sources import check_cameras, check_source

__all__ = [
    "CHECKS",
    "FAIL",
    "OK",
    "WARN",
    "Check",
    "check_cameras",
    "check_disk",
    "check_display",
    "check_egl",
    "check_mediapipe",
    "check_model",
    "check_paths",
    "check_ports",
    "check_providers",
    "check_source",
    "check_tensorrt_cache",
    "disk_level",
    "load",
    "report",
    "report_json",
    "run_checks",
]

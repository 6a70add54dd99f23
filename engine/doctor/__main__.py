"""`python -m engine.doctor [--json] [run_installation.py flags]`: the report on stdout, exit 1 when the
piece would not run, 2 for a bad command line.

The native libraries are silenced and onnxruntime's telemetry switched off before anything loads
them, so stdout carries the doctor's report alone and nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import sys

from engine.doctor.report import failed, report, report_json
from engine.doctor.runner import load, run_checks


def main(argv: list[str] | None = None) -> int:
    from engine.generator.telemetry import switch_off
    from engine.logs import quiet_native_env, setup_logging

    quiet_native_env()  # before cv2, mediapipe and pygame load
    switch_off()  # before onnxruntime loads: the doctor makes sessions too, and tells nobody

    ap = argparse.ArgumentParser(
        prog="python -m engine.doctor",
        description="Check this machine for the installation: one OK/WARN/FAIL line per check.",
        epilog="Any run_installation.py flag (--config, --source, --model, --provider, --headless, --osc-in, "
        "--http, --record, --stats, --log-file, ...) is checked as the piece would use it. "
        "Exit 1 when the piece would not run, 2 for a bad command line.",
    )
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    own, rest = ap.parse_known_args(argv)
    # Native libraries' lines (MediaPipe, TFLite, OpenCV) go to the log, shown only as errors: the
    # report on stdout is the doctor's own.
    setup_logging("ERROR", stream=sys.stderr)
    config, cfg = load(rest)
    checks = [config, *run_checks(cfg)]
    print(report_json(checks) if own.json else report(checks))
    return 1 if failed(checks) else 0


if __name__ == "__main__":
    sys.exit(main())

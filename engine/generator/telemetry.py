"""ONNX Runtime's telemetry, switched off before onnxruntime is imported.

Since 1.29 the official Linux wheels of ONNX Runtime carry Microsoft's 1DS telemetry, on by
default. Importing onnxruntime (not only creating a session) writes
`~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db` and a `deviceid` file, records the
executable path and, per session, the model file name, and uploads to
`mobile.events.data.microsoft.com`. A gallery piece promises visitors that nothing leaves the
machine, so this is off in every process that runs the generator.

Two switches, measured under strace with a fresh HOME on onnxruntime 1.32.0:

- `ORT_DISABLE_TELEMETRY=1` in the environment *before* `import onnxruntime`: no file under
  ~/.cache/Microsoft, no device id. This is the one that works; it is read while the module
  initialises, so setting it after the import is too late.
- `onnxruntime.disable_telemetry_events()`: called after the import it still leaves the database
  and the ProcessInfo event written at import time. It is called anyway before every session, so
  that a process which imported onnxruntime before this package at least logs no session events.

The package's `__init__` calls `switch_off()`, and every engine module that imports onnxruntime
lives in this package, so the variable is set before onnxruntime loads. It is forced, not
defaulted: an inherited `ORT_DISABLE_TELEMETRY=0` must not quietly turn uploads back on.
"""

from __future__ import annotations

import logging
import os
import sys
from types import ModuleType

log = logging.getLogger(__name__)

ENV_VAR = "ORT_DISABLE_TELEMETRY"


def switch_off() -> bool:
    """Set the variable; False (and one warning) when onnxruntime was already imported without it."""
    was = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = "1"
    if "onnxruntime" in sys.modules and was != "1":
        log.warning(
            "onnxruntime was imported before engine.generator, so its telemetry may have started: "
            "import engine.generator first or set %s=1 in the environment",
            ENV_VAR,
        )
        disable_events(sys.modules["onnxruntime"])
        return False
    return True


def disable_events(ort: ModuleType) -> None:
    """The API switch: stops events of sessions created from now on (see the module note)."""
    off = getattr(ort, "disable_telemetry_events", None)  # absent in builds without telemetry
    if off is not None:
        off()

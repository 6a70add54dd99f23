"""Logs for a machine nobody watches: every line is ours, the file stays small, journald reads the level.

A gallery machine's log is read after the fact, by someone who was not there, often through
`journalctl`. So: one format for every line (including what C libraries print), no timestamps under
systemd (journald adds its own) but a syslog `<N>` level prefix that it understands, and a rotating
file that can never fill the disk. The lines go to stderr, where they always went: systemd sends
stdout and stderr alike to the journal, and the CLI's tests and tools read the log there.

The noisy neighbours, and why each is handled where it is:
- OpenCV's camera-probe errors (`[ERROR:0@0.8] ... Camera index out of range`): OPENCV_LOG_LEVEL=OFF
  before cv2 is loaded; our camera source says "camera:0 not found" in a line of its own.
- pygame's "Hello from the pygame community" banner: PYGAME_HIDE_SUPPORT_PROMPT.
- MediaPipe 0.10.21's absl log lines ("W0000 ... Feedback manager requires a model with a single
  signature", "All log messages before absl::InitializeLog()") and TFLite's "Created TensorFlow Lite
  XNNPACK delegate": absl's C++ log has no environment switch (GLOG_minloglevel and
  TF_CPP_MIN_LOG_LEVEL change nothing), the wheel exports no symbol to set its threshold, and they
  are printed from MediaPipe's own threads, some only when the first visitor appears. So file
  descriptor 2 becomes a pipe read by a thread that turns every line into one line of ours: known
  harmless lines once at DEBUG, anything else at the level its own prefix says (throttled).
  Python's own stderr (tracebacks, `print(..., file=sys.stderr)`) keeps the real stderr, and so does
  faulthandler, so a native crash still leaves a trace there even if its last C line is lost.
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import logging
import os
import re
import sys
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TextIO

from engine.control.osc.safety import LogThrottle

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A line of ours, as the tests and the soak recognise it (plain, and under journald).
PLAIN_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")
JOURNAL_LINE = re.compile(r"^<[0-7]>[\w.]+: ")
SYSLOG_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}

# Set before cv2 / mediapipe / pygame are imported; a value the user set is kept (to debug them).
# GLOG_minloglevel and TF_CPP_MIN_LOG_LEVEL were tried: MediaPipe 0.10.21's lines ignore both.
QUIET_ENV = {"OPENCV_LOG_LEVEL": "OFF", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}

# Native lines known to be harmless: (pattern, why it is harmless). Shown once, at DEBUG.
KNOWN_NATIVE = (
    (re.compile(r"Created TensorFlow Lite XNNPACK delegate"), "TFLite chose its CPU kernels"),
    (re.compile(r"All log messages before absl::InitializeLog\(\)"), "absl's logging is not set up"),
    (re.compile(r"Feedback manager requires a model with a single signature"), "MediaPipe model load"),
    (re.compile(r"NORM_RECT without IMAGE_DIMENSIONS"), "MediaPipe face mesh on a square crop"),
    (re.compile(r"Successfully initialized EGL|GL version: .* renderer:"), "MediaPipe found a GL context"),
)
# absl / glog prefix ("W0000 00:00:1795987346.484629    5351 file.cc:114] msg"), OpenCV ("[ WARN:0@1.2] msg"),
# TFLite ("INFO: msg"): the level letter or word, then the message.
NATIVE_LEVEL = (
    (re.compile(r"^([IWEF])\d{4} [\d:.]+\s+\d+ (.*)$"), {"I": 20, "W": 30, "E": 40, "F": 50}),
    (
        re.compile(r"^\[\s*(INFO|WARN|ERROR|FATAL):[^\]]*\]\s*(.*)$"),
        {"INFO": 20, "WARN": 30, "ERROR": 40, "FATAL": 50},
    ),
    (re.compile(r"^(INFO|WARNING|ERROR): (.*)$"), {"INFO": 20, "WARNING": 30, "ERROR": 40}),
)


class LogFileError(ValueError):
    """The configured log file cannot be written; the message names `log.file`."""


def quiet_native_env() -> None:
    """Turn third-party C logging down at its source. Must run before cv2, mediapipe or pygame load."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


def under_journal(fd: int = 2) -> bool:
    """Whether `fd` is systemd's journal stream: $JOURNAL_STREAM names its device:inode, so output
    that was redirected to a file under systemd still gets timestamps."""
    want = os.environ.get("JOURNAL_STREAM", "")
    try:
        st = os.fstat(fd)
    except OSError:
        return False
    return bool(want) and want == f"{st.st_dev}:{st.st_ino}"


class JournalFormatter(logging.Formatter):
    """`<N>name: message`: journald strips `<N>` into the priority and stamps the time itself.
    Every line of a multi-line record (a traceback) carries the prefix, as each becomes an entry."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{SYSLOG_PRIORITY.get(record.levelno, 6)}>"
        text = f"{record.name}: {super().format(record)}"
        return "\n".join(prefix + line for line in text.splitlines() or [""])


class _SizedFile(RotatingFileHandler):
    """RotatingFileHandler whose `backups = 0` means "start the file afresh", not "grow forever"."""

    def doRollover(self) -> None:  # noqa: N802 (the stdlib's name)
        if self.backupCount > 0:
            super().doRollover()
            return
        if self.stream:
            self.stream.close()
        self.stream = open(self.baseFilename, "w", encoding=self.encoding)  # noqa: SIM115


def open_log_file(file: str, max_mb: float, backups: int) -> RotatingFileHandler:
    """The rotating file handler, its folder created; raises LogFileError naming `log.file`."""
    path = Path(file).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = _SizedFile(
            path, maxBytes=max(1, int(max_mb * 1024 * 1024)), backupCount=backups, encoding="utf-8"
        )
    except OSError as e:
        raise LogFileError(f"log.file = '{file}': cannot write there ({e.strerror or e})") from None
    handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    return handler


def setup_logging(
    level: str | int = "INFO",
    file: str = "",
    max_mb: float = 10.0,
    backups: int = 5,
    *,
    stream: TextIO | None = None,
    capture_native: bool = True,
) -> None:
    """Route every log line of the process: stderr (journald-friendly), the rotating file if one is
    configured, and (with `capture_native`) what C libraries write to fd 2. Raises LogFileError
    before changing anything if the file cannot be written, so the caller can exit 2 at start."""
    file_handler = open_log_file(file, max_mb, backups) if file else None
    native = NativeStderr() if capture_native else None
    if native:
        native.divert()  # from here on sys.stderr is the real stderr, and fd 2 the pipe
    out = stream or sys.stderr
    console = logging.StreamHandler(out)
    journal = stream is None and under_journal(out.fileno())
    console.setFormatter(JournalFormatter() if journal else logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(console)
    if file_handler:
        root.addHandler(file_handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # Python warnings (DeprecationWarning...) as lines of ours
    if native:
        native.start()


class NativeStderr:
    """fd 2 → a pipe → one line of ours per native line. Python's sys.stderr keeps the real stderr."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.log = logger or logging.getLogger("native")
        self.throttle = LogThrottle(self.log, interval=60.0, max_keys=1000)
        self.known_seen: dict[str, int] = {}
        self._thread: threading.Thread | None = None
        self._real_fd = self._read_fd = -1

    def divert(self) -> None:
        """fd 2 becomes the pipe; sys.stderr (and faulthandler) keep the real stderr."""
        sys.stderr.flush()
        self._real_fd = os.dup(2)
        self._read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        os.set_inheritable(self._real_fd, False)
        sys.stderr = open(self._real_fd, "w", buffering=1, closefd=False, errors="backslashreplace")  # noqa: SIM115
        faulthandler.enable(sys.stderr)

    def start(self) -> None:
        """Start reading the pipe (after the log handlers exist, so no line is lost to lastResort)."""
        if self._real_fd < 0:
            self.divert()
        self._thread = threading.Thread(
            target=self._pump, args=(self._read_fd,), name="native-stderr", daemon=True
        )
        self._thread.start()
        atexit.register(self.stop)

    def stop(self) -> None:
        """Give fd 2 back to the real stderr: the pipe's write end closes, the pump drains and ends."""
        if self._real_fd < 0:
            return
        os.dup2(self._real_fd, 2)
        if self._thread:
            self._thread.join(timeout=1.0)  # a child process holding the pipe must not delay exit

    def _pump(self, fd: int) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            pending = pending[-65536:]  # a line without end must not grow without bound
            for raw in lines:
                # if this thread died, fd 2 would fill up and block the C code writing to it
                with contextlib.suppress(Exception):
                    self.line(raw.decode("utf-8", "replace"))
        if pending:
            self.line(pending.decode("utf-8", "replace"))
        os.close(fd)

    def line(self, text: str) -> None:
        """Log one native line as ours: a known harmless one once at DEBUG, anything else throttled."""
        text = text.rstrip("\r").strip()
        if not text:
            return
        level, message = native_level(text)
        for pattern, why in KNOWN_NATIVE:
            if pattern.search(message):
                n = self.known_seen[why] = self.known_seen.get(why, 0) + 1
                if n == 1:
                    self.log.debug("%s (harmless: %s; repeats hidden)", message, why)
                return
        key = re.sub(r"\d+", "#", message)[:80]
        self.throttle(key, "%s", message, level=level)


def native_level(text: str) -> tuple[int, str]:
    """The level a C library meant, and its message without its own prefix; WARNING if unknown."""
    for pattern, levels in NATIVE_LEVEL:
        m = pattern.match(text)
        if m:
            return levels[m.group(1)], m.group(2)
    return logging.WARNING, text

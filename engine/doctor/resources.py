"""Doctor checks of what the machine must lend the piece: its listening ports, folders it can write
in, and free disk.

Each is tried for real (a bind, a file written and removed) rather than inferred: os.access says yes
to root even on a read-only /sys, and only a bind shows a port another engine holds.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from engine.doctor.base import FAIL, OK, ROOT, WARN, Check

if TYPE_CHECKING:
    from engine.config import Config

DISK_WARN, DISK_FAIL = 1e9, 100e6  # bytes free


def write_probe(folder: Path) -> str | None:
    """Really write a file there (os.access says yes to root even on a read-only /sys)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            return None
    except OSError as e:
        return e.strerror or str(e)


def _bind(kind: int, host: str, port: int) -> str | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as s:
        if kind == socket.SOCK_STREAM:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server binds
        try:
            s.bind((host, port))
        except OSError as e:
            return e.strerror or str(e)
    return None


def check_ports(cfg: Config) -> list[Check]:
    from engine.hostport import parse_listen

    osc, http = parse_listen(cfg.osc.listen), parse_listen(cfg.http.listen)
    wanted = []
    if osc:
        wanted.append(("osc.listen", socket.SOCK_DGRAM, "UDP", osc))
        if cfg.osc.query_port:
            wanted.append(("osc.query_port", socket.SOCK_STREAM, "TCP", (osc[0], cfg.osc.query_port)))
    if http:
        wanted.append(("http.listen", socket.SOCK_STREAM, "TCP", http))
    out = []
    for key, kind, proto, (host, port) in wanted:
        where = f"{key} {proto} {host}:{port}"
        if port == 0:
            out.append(Check("ports", OK, f"{where}: any free port"))
        elif problem := _bind(kind, host, port):
            out.append(Check("ports", FAIL, f"{where} cannot be bound: {problem} (another engine running?)"))
        else:
            out.append(Check("ports", OK, f"{where} is free"))
    return out or [Check("ports", OK, "no listening ports configured")]


def _outputs(cfg: Config) -> list[tuple[str, str]]:
    return [
        (k, v)
        for k, v in (("run.record", cfg.run.record), ("run.stats", cfg.run.stats), ("log.file", cfg.log.file))
        if v
    ]


def _existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def check_paths(cfg: Config) -> list[Check]:
    from engine.paths import PathError, check_writable_file
    from engine.render.recorder import SUFFIXES

    out = []
    for key, value in _outputs(cfg):
        path = Path(value).expanduser()
        try:
            if key == "log.file":  # the log's folder is created at start: its nearest parent must take it
                folder = _existing(path.parent)
            else:
                check_writable_file(value, key, SUFFIXES if key == "run.record" else ())
                folder = path.parent
        except PathError as e:
            out.append(Check("paths", FAIL, str(e)))
            continue
        if problem := write_probe(folder):
            out.append(Check("paths", FAIL, f"{key} = '{value}': cannot write in {folder} ({problem})"))
        else:
            out.append(Check("paths", OK, f"{key}: {folder} is writable"))
    return out or [Check("paths", OK, "no record, stats or log file configured")]


def disk_level(free: float) -> str:
    return FAIL if free < DISK_FAIL else WARN if free < DISK_WARN else OK


def check_disk(cfg: Config) -> list[Check]:
    from engine.generator.providers import cache_dir

    places = [("engine", ROOT), ("cache", cache_dir())] + [
        (k, Path(v).expanduser().parent) for k, v in _outputs(cfg)
    ]
    filesystems: dict[int, tuple[Path, list[str]]] = {}
    for what, folder in places:
        folder = _existing(folder.resolve())
        filesystems.setdefault(folder.stat().st_dev, (folder, []))[1].append(what)
    out = []
    for folder, whats in filesystems.values():
        total, _, free = shutil.disk_usage(folder)
        if total == 0:
            continue  # /proc, /sys: no disk to fill (a path there fails in check_paths)
        out.append(
            Check("disk", disk_level(free), f"{free / 1e9:.2f} GB free at {folder} ({', '.join(whats)})")
        )
    return out

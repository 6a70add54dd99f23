"""A local Triton Inference Server from the pytriton wheel in .venv-triton, for tests and one machine.

Production runs NVIDIA's container (docs/scale.md); this is the same server binary (2.51) as the
wheel ships it: only the python back end, so the repository is exported with `--backend python`.
The wheel expects its Python stub copied next to the back end and the interpreter's libpython and
the wheel's own libraries on LD_LIBRARY_PATH, which is what pytriton itself does before it starts it.
Stopped and killed by PID only (its python stubs too, by their PIDs), never by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from engine.config import ROOT

VENV = ROOT / ".venv-triton"
SETUP_HINT = "run ./test once (scripts/setup.sh dev builds .venv-triton with nvidia-pytriton)"


class ServerError(RuntimeError):
    """The local server cannot be found or does not come up; the message says why and what to do."""


def _venv_python(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        raise ServerError(f"{venv} not found: {SETUP_HINT}")
    return python


def server_paths(venv: Path = VENV) -> dict[str, Path]:
    """The binary, back ends, caches and library folders inside the venv's pytriton wheel."""
    python = _venv_python(venv)
    query = (
        "import sys, sysconfig, importlib.util as u; "
        "print(u.find_spec('pytriton').submodule_search_locations[0]); "
        "print(sysconfig.get_config_var('LIBDIR')); print(f'{sys.version_info[0]}.{sys.version_info[1]}')"
    )
    try:
        out = subprocess.run([python, "-c", query], capture_output=True, text=True, check=True, timeout=30)
        pkg, libdir, version = out.stdout.split()
    except (subprocess.SubprocessError, ValueError):
        raise ServerError(f"{venv} has no pytriton: {SETUP_HINT}") from None
    dist = Path(pkg) / "tritonserver"
    paths = {
        "binary": dist / "bin" / "tritonserver",
        "backends": dist / "backends",
        "caches": dist / "caches",
        "stub": dist / "python_backend_stubs" / version / "triton_python_backend_stub",
        "wheel_libs": Path(pkg).parent / "nvidia_pytriton.libs",
        "libpython": Path(libdir),
        "bin": venv / "bin",
    }
    for key in ("binary", "stub"):
        if not paths[key].exists():
            raise ServerError(f"{paths[key]} missing: {venv}'s pytriton wheel is incomplete; {SETUP_HINT}")
    return paths


def _children(pid: int) -> list[int]:
    """The direct children's PIDs (the python back end's stubs) from /proc, read before a kill."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class TritonServer:
    """One tritonserver process on 127.0.0.1 serving REPO; `start` returns once it is ready."""

    def __init__(
        self,
        repo: str | Path,
        grpc_port: int,
        http_port: int,
        log_path: str | Path | None = None,
        venv: Path = VENV,
        host: str = "127.0.0.1",
    ) -> None:
        self.repo = Path(repo)
        self.grpc_port, self.http_port, self.host = grpc_port, http_port, host
        self.log_path = Path(log_path) if log_path else None
        self.venv = venv
        self.proc: subprocess.Popen | None = None
        self._starts = 0
        self._prefix = ""  # this start's shared-memory regions: /dev/shm/<prefix>*

    @property
    def grpc_url(self) -> str:
        return f"{self.host}:{self.grpc_port}"

    def command(self, paths: dict[str, Path]) -> list[str]:
        # a fresh shared-memory prefix per start: a killed server's regions must not clash with the next
        prefix = self._prefix = f"lm{os.getpid()}x{self.grpc_port}x{self._starts}"
        return [
            str(paths["binary"]),
            f"--model-repository={self.repo}",
            f"--backend-directory={paths['backends']}",
            f"--cache-directory={paths['caches']}",
            f"--grpc-address={self.host}",
            f"--grpc-port={self.grpc_port}",
            f"--http-address={self.host}",
            f"--http-port={self.http_port}",
            "--allow-metrics=false",
            f"--backend-config=python,shm-region-prefix-name={prefix}",
            "--log-verbose=0",
        ]

    def start(self, timeout_s: float = 60.0) -> TritonServer:
        paths = server_paths(self.venv)
        stub = paths["backends"] / "python" / "triton_python_backend_stub"
        if not stub.exists():  # pytriton copies the interpreter's stub into place at start; so do we
            shutil.copy2(paths["stub"], stub)
        env = dict(os.environ)
        libs = f"{paths['libpython']}:{paths['wheel_libs']}"
        env["LD_LIBRARY_PATH"] = f"{libs}:{env['LD_LIBRARY_PATH']}" if env.get("LD_LIBRARY_PATH") else libs
        env["PATH"] = f"{paths['bin']}:{env.get('PATH', '')}"  # the stub's model.py imports from this venv
        env.pop("PYTHONPATH", None)
        self._starts += 1
        log = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115 - None: our own stdout
        try:
            self.proc = subprocess.Popen(
                self.command(paths), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.repo
            )
        finally:
            if log is not None:
                log.close()
        self.wait_ready(timeout_s)
        return self

    def ready(self) -> bool:
        url = f"http://{self.host}:{self.http_port}/v2/health/ready"
        try:
            with urllib.request.urlopen(url, timeout=1.0) as r:
                return r.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout_s: float) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self.proc is None or self.proc.poll() is not None:
                code = None if self.proc is None else self.proc.returncode
                raise ServerError(f"tritonserver exited ({code}) before it was ready; {self._log_hint()}")
            if self.ready():
                return
            time.sleep(0.1)
        self.stop()
        raise ServerError(f"tritonserver not ready after {timeout_s:.0f} s; {self._log_hint()}")

    def _log_hint(self) -> str:
        return f"see {self.log_path}" if self.log_path else "see its output above"

    def kill(self) -> None:
        """SIGKILL, as a crash or a pulled cable would end it: no goodbye to the clients."""
        self._signal(signal.SIGKILL, 5.0)

    def stop(self) -> None:
        """SIGINT: Triton unloads its models and stops its stubs; SIGKILL after 15 s."""
        self._signal(signal.SIGINT, 15.0)

    def _signal(self, sig: int, wait_s: float) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        stubs = _children(proc.pid)
        proc.send_signal(sig)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5.0)
        for pid in stubs:  # a killed server's stubs would notice only after their health check
            try:
                if b"triton_python_backend_stub" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass
        if self._prefix:  # a killed server leaves its regions behind (1 MB each)
            for region in Path("/dev/shm").glob(f"{self._prefix}*"):
                region.unlink(missing_ok=True)

    def __enter__(self) -> TritonServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main_run(repo: str, grpc_port: int, http_port: int) -> int:
    """`python -m engine.serve run`: serve until Ctrl-C or SIGTERM, then stop the server cleanly."""
    server = TritonServer(repo, grpc_port, http_port)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # also when started in the background (SIGINT ignored)
        signal.signal(sig, lambda *_: stop.set())
    try:
        server.start()
    except ServerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"serving {repo}: grpc {server.grpc_url}, http {server.host}:{http_port}; Ctrl-C stops", flush=True)
    try:
        while not stop.wait(0.5) and server.proc is not None and server.proc.poll() is None:
            pass
    finally:
        server.stop()
    return 0

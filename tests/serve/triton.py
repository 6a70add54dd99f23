"""The real Triton server for tests: the shipped model exported for the python back end, served
from .venv-triton on free loopback ports, stopped (or killed) by PID. No server, no skip: CI runs
./test, which builds the venv, so a missing one is a failure that says how to get it."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.serve.export import export
from engine.serve.server import SETUP_HINT, VENV, TritonServer
from engine.soak_drive import free_port

from ..conftest import SHIPPED_MODEL

MODEL = "painterly"
WRONG = "painterly_wrong"  # the same files, but its config says the latent has 128 numbers


def need_venv() -> None:
    if not (VENV / "bin" / "python").exists():
        pytest.fail(f"{VENV} missing: {SETUP_HINT}", pytrace=False)


def export_repo(folder: Path) -> Path:
    """REPO with the shipped model (python back end) and a mismatching twin."""
    repo = folder / "repo"
    export(SHIPPED_MODEL, repo, "python", MODEL)
    wrong = export(SHIPPED_MODEL, repo, "python", WRONG)
    text = wrong.config.read_text().replace("dims: [ 256 ]", "dims: [ 128 ]")
    assert "dims: [ 128 ]" in text
    wrong.config.write_text(text)
    return repo


def start_server(repo: Path, log: Path) -> TritonServer:
    need_venv()
    grpc = free_port()
    http = free_port()
    while http == grpc:
        http = free_port()
    return TritonServer(repo, grpc, http, log_path=log).start(timeout_s=120)

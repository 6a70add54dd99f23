"""Shared test set-up: the shipped model, and GPU tests skipped where no GPU is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_MODEL = ROOT / "models" / "painterly"

os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
# Some tests import onnxruntime before engine.generator; its telemetry starts at import (telemetry.py).
os.environ["ORT_DISABLE_TELEMETRY"] = "1"


def _has_cuda() -> bool:
    try:
        import onnxruntime as ort
    except ImportError:
        return False
    return "CUDAExecutionProvider" in ort.get_available_providers()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _has_cuda():
        return
    skip = pytest.mark.skip(reason="needs onnxruntime-gpu with the CUDA provider (requirements-gpu.txt)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shipped_model() -> Path:
    assert (SHIPPED_MODEL / "manifest.json").is_file(), f"shipped model missing at {SHIPPED_MODEL}"
    return SHIPPED_MODEL

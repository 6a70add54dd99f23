"""How a settings field declares its allowed values: a range or a list of choices in its metadata.

engine.config reads this metadata to reject a bad value with one line naming the key, and the
settings dataclasses declare it; it lives apart from both so any module of settings can use it
without importing engine.config (which imports them: that would be a cycle).
"""

from __future__ import annotations


def rng(lo: float, hi: float, doc: str = "") -> dict:
    return {"lo": lo, "hi": hi, "doc": doc}


def choices(*opts: str, doc: str = "") -> dict:
    return {"choices": opts, "doc": doc}

"""How a settings field declares its allowed values, and the one check that enforces them.

A field's metadata holds its range (`rng`) or its choices (`choices`); `check_value` rejects a
value of the wrong type or outside them with one line naming the key. engine.config runs it on
every key of the TOML file, and a settings class that is also built in code (PerceptionSettings,
by the tracker and the tests) runs the same check from its `validate()` through `check_fields`:
one rule, one message, wherever the value came from. It lives apart from engine.config so any
module of settings can use it without importing engine.config (which imports them: a cycle).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any


class ConfigError(ValueError):
    """One line naming the key and what is wrong with it."""


def rng(lo: float, hi: float, doc: str = "") -> dict:
    return {"lo": lo, "hi": hi, "doc": doc}


def choices(*opts: str, doc: str = "") -> dict:
    return {"choices": opts, "doc": doc}


def field_types(cls: type) -> dict[str, Any]:
    """Each field's type, with `X | None` read as X (None is never written in a config file)."""
    hints = typing.get_type_hints(cls)
    out = {}
    for name, ftype in hints.items():
        if isinstance(ftype, types.UnionType):
            ftype = next(a for a in typing.get_args(ftype) if a is not type(None))
        out[name] = ftype
    return out


def check_value(key: str, value: Any, ftype: Any, meta: typing.Mapping[str, Any]) -> Any:
    """`value` checked against its type and its field's metadata; returns it as the field holds it
    (an int for a float field becomes a float, a list of strings a tuple). ConfigError otherwise."""
    raw = value
    if ftype is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} = {value!r} must be true or false")
    elif ftype is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} = {value!r} must be an integer")
    elif ftype is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key} = {value!r} must be a number")
        value = float(value)
    elif ftype is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key} = {value!r} must be a string")
    elif typing.get_origin(ftype) is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key} = {value!r} must be a list of strings")
        value = tuple(value)
    if "lo" in meta and not meta["lo"] <= value <= meta["hi"]:  # NaN fails this too
        raise ConfigError(f"{key} = {raw!r} is out of range {meta['lo']}..{meta['hi']}")
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(f"{key} = {value!r} must be one of {', '.join(meta['choices'])}")
    return value


def check_fields(obj: Any, prefix: str) -> None:
    """Every field of a settings dataclass instance through `check_value`, keys named `prefix.field`."""
    types_ = field_types(type(obj))
    for f in dataclasses.fields(obj):
        check_value(f"{prefix}.{f.name}", getattr(obj, f.name), types_[f.name], f.metadata)

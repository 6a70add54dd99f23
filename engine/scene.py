"""The Scene contract and the registry of scenes.

A scene is a small class: it declares its parameters and turns what the
viewer does into a Target (latent direction offsets + render uniforms). It
never touches the GL context, sockets or the camera, so a scene file is easy
to write and to test offline.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from engine.messages import Target, Viewer
from engine.params import ParamSpec


@dataclass(frozen=True)
class SceneInputs:
    viewer: Viewer
    t: float  # clock seconds
    dt: float  # seconds since the previous update
    params: Mapping[str, float]  # registry snapshot, dotted names
    directions: int  # how many PCA directions the model offers
    sync: Mapping[str, float] = field(default_factory=dict)  # beat phase, audio level… (OSC issue)


class Scene(ABC):
    """One look. State a scene keeps lives on its instance and starts over on every switch: selecting
    a scene builds a fresh instance (`Pipeline.select_scene`), so there is no reset hook to forget."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    params: ClassVar[tuple[ParamSpec, ...]] = ()

    @abstractmethod
    def update(self, inputs: SceneInputs) -> Target: ...


_REGISTRY: dict[str, type[Scene]] = {}


def register(cls: type[Scene]) -> type[Scene]:
    for p in cls.params:
        if not p.name.startswith(cls.name + "."):
            raise ValueError(f"scene {cls.name}: parameter {p.name} must start with '{cls.name}.'")
    _REGISTRY[cls.name] = cls
    return cls


def load_builtin_scenes() -> None:
    import scenes

    for mod in pkgutil.iter_modules(scenes.__path__):
        importlib.import_module(f"scenes.{mod.name}")


def scene_names() -> list[str]:
    load_builtin_scenes()
    return sorted(_REGISTRY)


def scene_class(name: str) -> type[Scene]:
    load_builtin_scenes()
    if name not in _REGISTRY:
        raise KeyError(f"unknown scene '{name}' (available: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name]


def reload_scene_module(
    module: str, check: Callable[[type[Scene]], object] | None = None
) -> list[type[Scene]]:
    """Import a scene file again after an edit (--watch, engine.watch); returns the classes it registers now.

    `check` runs on each (default: build an instance). When the import or a check raises, the error goes up
    and the module's namespace and the registry are put back as they were: the running scene's methods
    read their module's globals, so half a new file must not leak into the last good version."""
    before = dict(_REGISTRY)
    mod = sys.modules.get(module)
    saved = dict(mod.__dict__) if mod is not None else None
    try:
        if mod is None:  # a new file
            importlib.invalidate_caches()
            mod = importlib.import_module(module)
        else:
            # A .pyc is trusted on (mtime in whole seconds, size): two saves in one second of the same
            # length would bring the old code back. Compile from the source instead.
            cached = importlib.util.cache_from_source(mod.__file__) if mod.__file__ else None
            if cached:
                Path(cached).unlink(missing_ok=True)
            mod = importlib.reload(mod)
        new = [c for n, c in _REGISTRY.items() if c.__module__ == module and before.get(n) is not c]
        for cls in new:
            (check or (lambda c: c()))(cls)
    except BaseException:
        _REGISTRY.clear()
        _REGISTRY.update(before)
        if saved is not None:
            sys.modules[module].__dict__.clear()
            sys.modules[module].__dict__.update(saved)
        raise
    for name, cls in before.items():  # renamed or removed from the file: no longer selectable
        if cls.__module__ == module and _REGISTRY.get(name) is cls:
            del _REGISTRY[name]
    return new

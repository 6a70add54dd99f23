"""The Scene contract and the registry of scenes.

A scene is a small class: it declares its parameters and turns what the
viewer does into a Target (latent direction offsets + render uniforms). It
never touches the GL context, sockets or the camera, so a scene file is easy
to write and to test offline.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
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

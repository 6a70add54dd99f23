"""Perception: camera frames → MediaPipe landmarks → named, filtered Viewer features.

Importing this package is cheap (MediaPipe loads when a Perceiver is built), so
scenes can read the FEATURES catalogue without paying for the models.
"""

from engine.perception.features import FEATURES, FeatureSpec
from engine.perception.one_euro import OneEuroBank, OneEuroFilter
from engine.perception.presence import PresenceGate
from engine.perception.settings import PerceptionSettings
from engine.perception.tracker import Perceiver

__all__ = [
    "FEATURES",
    "FeatureSpec",
    "OneEuroBank",
    "OneEuroFilter",
    "PerceptionSettings",
    "Perceiver",
    "PresenceGate",
]

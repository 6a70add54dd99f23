"""The generator: a model folder run by ONNX Runtime.

ONNX Runtime's telemetry is switched off here, before any module of this package imports
onnxruntime (see telemetry.py): this file runs first whenever any of them is imported.
"""

from engine.generator.telemetry import switch_off

switch_off()

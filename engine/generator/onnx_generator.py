"""The runtime generator: a model folder run by ONNX Runtime.

Shapes are checked against the manifest when the model loads, not on the first
frame in front of an audience, and the session is warmed up so the first
presented frame is not the slowest. `generate` may be called from the
generator's own thread; a lock guards the IO binding, which is not thread-safe.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from engine.generator.manifest import Manifest, ModelError, load_manifest
from engine.generator.providers import TrtCache, TrtShapes, create_session, trt_cache, wants_tensorrt
from engine.styles import from_manifest

log = logging.getLogger(__name__)


def _check_io(session: ort.InferenceSession, path: Path, in_name: str, in_dim: int, out_shape: tuple) -> None:
    inputs = {i.name: i.shape for i in session.get_inputs()}
    outputs = {o.name: o.shape for o in session.get_outputs()}
    if in_name not in inputs:
        raise ModelError(f"{path}: has no input '{in_name}' (it has {', '.join(inputs)}); see manifest.json")
    shape = inputs[in_name]
    if len(shape) != 2 or (isinstance(shape[1], int) and shape[1] != in_dim):
        raise ModelError(f"{path}: input '{in_name}' has shape {shape}, manifest.json says [batch, {in_dim}]")
    out_name, want = out_shape[0], out_shape[1:]
    if out_name not in outputs:
        raise ModelError(
            f"{path}: has no output '{out_name}' (it has {', '.join(outputs)}); see manifest.json"
        )
    got = outputs[out_name]
    if len(got) != len(want) or any(isinstance(g, int) and g != w for g, w in zip(got[1:], want[1:])):
        raise ModelError(f"{path}: output '{out_name}' has shape {got}, manifest.json says {list(want)}")


def model_trt_cache(m: Manifest) -> TrtCache:
    """The keyed TensorRT engine folder for this model on this GPU: the generator loads from it, and
    the doctor's provider check builds into it, so running the doctor first saves the first start."""
    return trt_cache(m.onnx, TrtShapes(m.input_name, m.latent_dim, m.height, m.width))


class OnnxGenerator:
    """generate(latents [B, D] float32) → images [B, 3, H, W] float32 in the manifest's range."""

    def __init__(
        self, model_dir: str | Path, provider: str = "auto", threads: int = 1, warmup: int = 2
    ) -> None:
        self.manifest: Manifest = load_manifest(model_dir)
        m = self.manifest
        t0 = time.perf_counter()
        trt = model_trt_cache(m) if wants_tensorrt(provider) else None
        try:
            self.session, self.provider = create_session(m.onnx, provider, threads, trt)
        except ModelError:
            raise
        except Exception as e:  # onnxruntime raises its own types for unreadable files
            raise ModelError(f"{m.onnx}: cannot be loaded by onnxruntime: {str(e).splitlines()[0]}") from None
        _check_io(
            self.session,
            m.onnx,
            m.input_name,
            m.latent_dim,
            (m.output_name, None, m.channels, m.height, m.width),
        )
        self.styles = from_manifest(m)
        self.mapping = None
        if m.sampler.kind == "mapping":
            self.mapping, _ = create_session(m.sampler.onnx, "cpu", 1)
            _check_io_mapping(self.mapping, m)
        self._lock = threading.Lock()
        self._device = self.provider in ("cuda", "tensorrt")
        self._binding = self.session.io_binding() if self._device else None
        # TensorRT builds (or loads) its engine here, before the first frame, never on the projector:
        # batch 1 and the profile's top batch both run, so neither triggers a rebuild later.
        fixed = isinstance(next(i for i in self.session.get_inputs() if i.name == m.input_name).shape[0], int)
        batches = (1, trt.shapes.max_batch) if trt and self.provider == "tensorrt" and not fixed else (1,)
        for _ in range(warmup):
            for b in batches:
                self.generate(np.repeat(self.mean_latent()[None], b, axis=0))
        # Verify the declared output shape on a real run: symbolic dims hide mismatches.
        out = self.generate(self.mean_latent()[None])
        if out.shape[1:] != (m.channels, m.height, m.width):
            raise ModelError(
                f"{m.onnx}: produced {list(out.shape)}, "
                f"manifest.json says [B, {m.channels}, {m.height}, {m.width}]"
            )
        if trt is not None and self.provider == "tensorrt":
            how = "loaded" if trt.had_engine else "built"
            log.info("TensorRT engine %s in %.1f s: %s", how, time.perf_counter() - t0, trt.folder)

    @property
    def latent_dim(self) -> int:
        return self.manifest.latent_dim

    def mean_latent(self) -> np.ndarray:
        return self.manifest.latent_mean.copy()

    def sample_latents(self, n: int, rng: np.random.Generator, style: np.ndarray | None = None) -> np.ndarray:
        """Random latents in the space the generator consumes (w through the mapping, or z).

        A model with styles samples the blend `style` (normalised weights; None: every style alike),
        appended to the noise, and truncates toward that blend's centre: toward the global mean, a
        truncated marble would drift toward everyone's average."""
        s = self.manifest.sampler
        if self.mapping is None:
            return (rng.standard_normal((n, self.latent_dim)) * s.truncation).astype(np.float32)
        z = rng.standard_normal((n, s.input_dim - s.style_dim)).astype(np.float32)
        mean = self.manifest.latent_mean
        if s.style_dim:
            weights = self.styles.uniform() if style is None else self.styles.normalise(style)
            z, mean = self.styles.append(z, weights), self.styles.centre(weights)
        w = self.mapping.run([s.output_name], {s.input_name: z})[0]
        return (mean + s.truncation * (w - mean)).astype(np.float32)

    def generate(self, latents: np.ndarray) -> np.ndarray:
        latents = np.ascontiguousarray(latents, dtype=np.float32)
        if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
            raise ValueError(f"latents must be [batch, {self.latent_dim}], got {list(latents.shape)}")
        m = self.manifest
        with self._lock:
            if self._binding is None:
                return self.session.run([m.output_name], {m.input_name: latents})[0]
            # GPU: the latent goes up once, the image comes down once; nothing else crosses.
            b = self._binding
            b.clear_binding_inputs()
            b.clear_binding_outputs()
            b.bind_cpu_input(m.input_name, latents)
            b.bind_output(m.output_name, "cuda")
            self.session.run_with_iobinding(b)
            return b.copy_outputs_to_cpu()[0]

    def to_rgb8(self, images: np.ndarray) -> np.ndarray:
        """[B, 3, H, W] in the output range → [B, H, W, 3] uint8 for texture upload."""
        lo, hi = self.manifest.output_range
        x = (images.transpose(0, 2, 3, 1) - lo) * (255.0 / (hi - lo))
        return np.clip(x + 0.5, 0, 255).astype(np.uint8)

    def generate_rgb(self, latents: np.ndarray) -> np.ndarray:
        return self.to_rgb8(self.generate(latents))

    def time_one(self, latents: np.ndarray) -> float:
        t = time.perf_counter()
        self.generate(latents)
        return (time.perf_counter() - t) * 1000.0


def _check_io_mapping(session: ort.InferenceSession, m: Manifest) -> None:
    s = m.sampler
    _check_io(session, s.onnx, s.input_name, s.input_dim, (s.output_name, None, m.latent_dim))

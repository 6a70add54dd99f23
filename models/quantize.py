"""An int8 copy of a model folder, for ONNX Runtime's CPU provider: a measurement, not shipped.

    python -m models.quantize --model models/painterly --out /tmp/painterly-int8 \\
        [--calibration 64] [--seed 0] [--compare side_by_side.png]

OUT is a model folder of the same contract (int8 generator.onnx, the source's mapping.onnx, the
manifest renamed "<name>-int8"), so the engine, `engine.generator.bench` and `models.evaluate` take
it as it is: `--model OUT` beside the source compares the two.

Static int8 (QDQ, per-channel int8 weights, uint8 activations: the u8s8 kernels VNNI runs fastest)
makes painterly's generator ~1.5x faster on the 2-core CPU, but it is not shipped: rounding each
activation to 256 levels adds a fine grain that is redrawn whenever the latent moves at all, so a
slow drift shimmers (frame-to-frame change 3-18x fp32's; models/painterly/README.md, "int8"). The
tool prints that measurement beside the pixel differences, so another model is judged the same way.

Which nodes: the 3x3 convs above the smallest resolution (8x8 up) and the fully connected (Gemm)
layers. The two 4x4 convs and the 1x1 toRGB convs stay fp32: alone, each 4x4 conv in int8 moved
pixels by a mean 0.015-0.033 (the 8x8 and larger ones 0.004-0.013) because an error there spreads
over the whole picture, and all of them together cost under a millisecond in fp32. Quantizing the
Gemms (the w -> style maps and w -> 4x4 input) brings the file under 10 MB and adds little error.

Calibration: the latents the engine really feeds: samples through the folder's own sampler
(mapping network, truncation), the mean latent, and the mean pushed +-3 sigma along each PCA
direction of the manifest (the walks the scenes make). Activation ranges are the 99.999th
percentile, not min/max: min/max lets rare outliers waste the 256 levels (on the same convs the
largest pixel error fell from 0.48 to 0.30, the mean from 0.024 to 0.022). Everything is seeded,
so the file is reproduced byte for byte.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path

import numpy as np

from engine.generator.manifest import ModelError, load_manifest
from engine.generator.onnx_generator import OnnxGenerator
from models.derived import write_derived

PERCENTILE = 99.999
WALK_SIGMA = 3.0


def calibration_latents(gen: OnnxGenerator, count: int, seed: int = 0) -> np.ndarray:
    """[count + 1 + 2K, D]: sampled latents, the mean, and the mean +-3 sigma along each direction."""
    m = gen.manifest
    walks = [m.latent_mean[None]]
    for d, s in zip(m.directions, m.sigma):
        walks += [(m.latent_mean + WALK_SIGMA * s * d)[None], (m.latent_mean - WALK_SIGMA * s * d)[None]]
    sampled = gen.sample_latents(count, np.random.default_rng(seed))
    return np.concatenate([sampled, *walks]).astype(np.float32)


def quantized_nodes(model) -> list[str]:
    """Names of the nodes to quantize: every Gemm, and the 3x3 convs above the smallest resolution.

    `model` must carry inferred shapes (quant_pre_process adds them); a conv whose input size is
    unknown stays fp32."""
    graph = model.graph
    kernels = {i.name: tuple(i.dims)[2:] for i in graph.initializer}
    sides = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim][2:] for v in graph.value_info}
    convs = {
        n.name: min(sides.get(n.input[0]) or [0])
        for n in graph.node
        if n.op_type == "Conv" and len(n.input) > 1 and kernels.get(n.input[1]) == (3, 3)
    }
    smallest = min((s for s in convs.values() if s > 0), default=0)
    return [n.name for n in graph.node if n.op_type == "Gemm" or convs.get(n.name, 0) > smallest]


class _Reader:
    """Feeds the calibration latents one at a time (batch 1: what the live loop runs)."""

    def __init__(self, input_name: str, latents: np.ndarray) -> None:
        self._it = iter([{input_name: latents[i : i + 1]} for i in range(len(latents))])

    def get_next(self) -> dict | None:
        return next(self._it, None)


def quantize(model_dir: Path, out_dir: Path, count: int = 64, seed: int = 0) -> Path:
    """Write the int8 model folder `out_dir` from `model_dir`; returns out_dir."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if count < 1:
        raise ValueError(f"--calibration must be at least 1, got {count}")
    gen = OnnxGenerator(model_dir, provider="cpu", threads=1, warmup=0)
    m = gen.manifest
    if out_dir.resolve() == m.folder.resolve():
        raise ModelError(f"--out {out_dir}: is the source model folder; choose another")
    latents = calibration_latents(gen, count, seed)
    raw = json.loads((m.folder / "manifest.json").read_text(encoding="utf-8"))
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        # ORT's basic fusions and ONNX shape inference first (its advice for static quantization);
        # the symbolic shape pass cannot follow this graph's Resize scales and is not needed.
        quant_pre_process(str(m.onnx), str(pre), skip_symbolic_shape=True)
        nodes = quantized_nodes(onnx.load(str(pre)))
        if not nodes:
            raise ModelError(f"{m.onnx}: no Gemm and no 3x3 Conv above the smallest resolution")
        quantize_static(
            str(pre),
            str(out_dir / raw["onnx"]),
            _Reader(m.input_name, latents),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["Conv", "Gemm"],
            nodes_to_quantize=nodes,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.Percentile,
            extra_options={"CalibPercentile": PERCENTILE, "CalibMaxIntermediateOutputs": 8},
        )
    description = (
        f"int8 copy of {m.name} (QDQ, static, {count} sampled latents + walks, seed {seed}), "
        "made by models.quantize to measure; not shipped"
    )
    write_derived(m, raw, out_dir, f"{m.name}-int8", description)
    load_manifest(out_dir)  # the result must meet the contract it claims
    return out_dir


def compare(
    fp32: OnnxGenerator, int8: OnnxGenerator, count: int = 8, seed: int = 1
) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Pixel differences on the same sampled latents (output units), and both as RGB rows."""
    latents = fp32.sample_latents(count, np.random.default_rng(seed))
    a, b = fp32.generate(latents), int8.generate(latents)
    d = np.abs(a - b)
    stats = {"max": float(d.max()), "mean": float(d.mean()), "p99": float(np.percentile(d, 99))}
    return stats, fp32.to_rgb8(a), int8.to_rgb8(b)


def motion_steps(
    fp32: OnnxGenerator, int8: OnnxGenerator, seed: int = 3, frames: int = 16
) -> dict[float, tuple[float, float]]:
    """{sigma per frame: (fp32, int8) mean frame-to-frame RMS change in 0..1 RGB} along one drift.

    Per frame the latent moves 0.1 sigma (the engine's top speed, 2.5 sigma/s at 25 fps), then 0.02
    and 0.004 sigma (idle drifts). fp32's change shrinks with the speed; int8's rounding adds a floor
    that does not, and that floor is the shimmer an audience sees."""
    m = fp32.manifest
    rng = np.random.default_rng(seed)
    start = fp32.sample_latents(1, rng)[0]
    if len(m.sigma):
        way = m.directions.T @ (rng.standard_normal(len(m.sigma)) * m.sigma)
        sigma = float(np.sqrt(np.mean(m.sigma**2)))
    else:
        way, sigma = rng.standard_normal(m.latent_dim), 1.0
    way = (way / np.linalg.norm(way)).astype(np.float32)
    out = {}
    for per_frame in (0.1, 0.02, 0.004):
        t = np.arange(frames, dtype=np.float32)[:, None] * np.float32(per_frame * sigma)
        path = (start[None] + t * way[None]).astype(np.float32)
        steps = []
        for gen in (fp32, int8):
            rgb = gen.generate_rgb(path).astype(np.float32) / 255.0
            steps.append(float(np.sqrt(((rgb[1:] - rgb[:-1]) ** 2).mean(axis=(1, 2, 3))).mean()))
        out[per_frame] = (steps[0], steps[1])
    return out


def side_by_side(top: np.ndarray, bottom: np.ndarray, path: Path, gap: int = 4) -> None:
    """fp32 row over int8 row, full size, so a difference is judged at the pixels the projector gets."""
    from PIL import Image

    n, h, w, _ = top.shape
    canvas = np.full((2 * h + gap, n * w + (n - 1) * gap, 3), 20, np.uint8)
    for i in range(n):
        x = i * (w + gap)
        canvas[:h, x : x + w] = top[i]
        canvas[h + gap :, x : x + w] = bottom[i]
    Image.fromarray(canvas).save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="model folder (manifest.json + ONNX)")
    ap.add_argument("--out", type=Path, required=True, help="the int8 model folder to write")
    ap.add_argument("--calibration", type=int, default=64, help="sampled latents (plus mean and walks)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--compare", type=Path, help="also write fp32-over-int8 rows of 8 latents here (PNG)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        out = quantize(args.model, args.out, args.calibration, args.seed)
        fp32 = OnnxGenerator(args.model, provider="cpu", threads=1)
        int8 = OnnxGenerator(out, provider="cpu", threads=1)
    except (ModelError, ValueError) as e:
        print(f"error: {e}")
        return 1
    mb = [g.manifest.onnx.stat().st_size / 1e6 for g in (int8, fp32)]
    print(f"wrote {out}: {int8.manifest.onnx.name} {mb[0]:.1f} MB (fp32 {mb[1]:.1f} MB)")
    stats, top, bottom = compare(fp32, int8)
    print(
        "fp32 vs int8 on 8 latents, |difference| in output units:",
        *(f"{k} {v:.4f}" for k, v in stats.items()),
    )
    for speed, (a, b) in motion_steps(fp32, int8).items():
        print(f"drift {speed:g} sigma/frame: frame-to-frame RMS fp32 {a:.4f}, int8 {b:.4f} ({b / a:.1f}x)")
    if args.compare:
        side_by_side(top, bottom, args.compare)
        print(f"wrote {args.compare} (fp32 row above int8 row)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

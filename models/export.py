"""Export generators to the engine's contract (generator.onnx + manifest.json).

`export_generator` takes any PyTorch module that maps a latent [B, D] to an
image [B, 3, H, W], so a user's own generator runs in the engine unchanged.
`python -m models.export` exports a checkpoint of `models.train`: the synthesis
network takes w (lerp-friendly), the mapping network ships beside it as the
sampler, and GANSpace-style PCA directions over sampled w go in the manifest.

    python -m models.export --checkpoint runs/painterly/checkpoint.pt --out models/painterly
"""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.generator.manifest import MANIFEST_FORMAT, STYLE_NAME

OPSET = 17


class _Clamped(nn.Module):
    def __init__(self, module: nn.Module, lo: float, hi: float) -> None:
        super().__init__()
        self.module, self.lo, self.hi = module, lo, hi

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.module(latent).clamp(self.lo, self.hi)


def export_onnx(module: nn.Module, in_dim: int, path: Path, in_name: str, out_name: str) -> None:
    example = torch.zeros(1, in_dim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            (example,),
            str(path),
            input_names=[in_name],
            output_names=[out_name],
            dynamic_axes={in_name: {0: "batch"}, out_name: {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    fold_constants(path)


def fold_constants(path: Path) -> None:
    """Fold weight-only subgraphs (e.g. demodulation norms) so the file holds each weight once.

    ONNX Runtime's basic level only applies standard-ONNX rewrites, so the result
    stays portable to TensorRT and other runtimes.
    """
    import onnxruntime as ort

    from engine.generator.telemetry import disable_events

    disable_events(ort)  # telemetry off; the variable was set by the module-level engine.generator import
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    tmp = path.with_suffix(".folded.onnx")
    so.optimized_model_filepath = str(tmp)
    ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    tmp.replace(path)


def pca_directions(latents: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k principal axes of sampled latents (unit rows) and the std along each."""
    centered = latents - latents.mean(0)
    _, s, vt = np.linalg.svd(centered, full_matrices=False)
    sigma = s[:k] / np.sqrt(len(latents) - 1)
    return vt[:k].astype(np.float32), sigma.astype(np.float32)


def image_pca_directions(
    module: nn.Module, latents: np.ndarray, k: int, feature_size: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """Directions for a generator whose latent is isotropic noise (a plain z space).

    PCA of raw z finds nothing, so, as GANSpace does with early activations, take
    the principal components of the generated images and regress the latents onto
    them: each direction is the latent change that best explains one image mode.
    """
    feats = []
    with torch.no_grad():
        for chunk in np.array_split(latents, max(1, len(latents) // 64)):
            img = module(torch.from_numpy(chunk))
            img = torch.nn.functional.adaptive_avg_pool2d(img, feature_size)
            feats.append(img.flatten(1).numpy())
    f = np.concatenate(feats)
    f = f - f.mean(0)
    _, _, vt = np.linalg.svd(f, full_matrices=False)
    scores = f @ vt[:k].T  # [N, k]
    coef, *_ = np.linalg.lstsq(scores, latents - latents.mean(0), rcond=None)  # [k, D]
    dirs = coef / np.linalg.norm(coef, axis=1, keepdims=True)
    sigma = (latents @ dirs.T).std(0)
    return dirs.astype(np.float32), sigma.astype(np.float32)


def export_generator(
    module: nn.Module,
    out_dir: str | Path,
    latent_dim: int,
    *,
    name: str | None = None,
    output_range: tuple[float, float] = (-1.0, 1.0),
    mapping: nn.Module | None = None,
    mapping_input_dim: int = 0,
    styles: Sequence[str | tuple[str, np.ndarray]] = (),
    latent_mean: np.ndarray | None = None,
    truncation: float = 1.0,
    n_directions: int = 16,
    pca_samples: int = 4096,
    license: str = "unknown",
    training_data: str = "unknown",
    description: str = "",
    seed: int = 0,
) -> Path:
    """Export a PyTorch generator (latent [B, latent_dim] → image [B, 3, H, W]) to the contract.

    Without `mapping` the latent is taken as a z space sampled from N(0, I); with
    one (z [B, mapping_input_dim] → w [B, latent_dim]) the latent is a w space and
    the mapping ships as `mapping.onnx`. Returns the folder.

    `styles` makes it a class-conditional model: the mapping's input is then noise ⊕ one weight per
    style (mapping_input_dim = z_dim + len(styles), the weights last, in this order). Each style is
    a name with its centre in w (the mean of the mapping's output for that class, e.g. a per-class
    w_avg), or a name alone, whose centre is then estimated here from `pca_samples` one-hot samples.
    The PCA directions are then those of the variety within a style (w minus its style's centre).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    module = module.eval()
    with torch.no_grad():
        probe = module(torch.zeros(1, latent_dim))
    if probe.ndim != 4 or probe.shape[1] != 3:
        raise ValueError(f"generator must output [B, 3, H, W], got {list(probe.shape)}")
    _, _, h, w = probe.shape
    lo, hi = output_range
    export_onnx(_Clamped(module, lo, hi), latent_dim, out / "generator.onnx", "latent", "image")
    rng = np.random.default_rng(seed)
    if styles and mapping is None:
        raise ValueError("styles need a mapping network: the style weights are its last inputs")
    if mapping is not None:
        mapping = mapping.eval()
        export_onnx(mapping, mapping_input_dim, out / "mapping.onnx", "z", "w")
        if styles:
            names, centres, ws = _style_samples(mapping, mapping_input_dim, styles, pca_samples, rng)
            mean = centres.mean(0) if latent_mean is None else np.asarray(latent_mean, np.float32)
            dirs, sigma = pca_directions(truncation * ws, n_directions)  # ws: w minus its style's centre
        else:
            with torch.no_grad():
                z = torch.from_numpy(rng.standard_normal((pca_samples, mapping_input_dim)).astype(np.float32))
                ws = mapping(z).numpy()
            mean = ws.mean(0) if latent_mean is None else np.asarray(latent_mean, np.float32)
            dirs, sigma = pca_directions(mean + truncation * (ws - mean), n_directions)
        latent = {
            "space": "w",
            "mean": mean.tolist(),
            "sampler": {
                "kind": "mapping",
                "onnx": "mapping.onnx",
                "input_dim": mapping_input_dim,
                "input_name": "z",
                "output_name": "w",
                "truncation": truncation,
            },
        }
        if styles:
            latent["sampler"]["style_dim"] = len(names)
    else:
        zs = (rng.standard_normal((pca_samples, latent_dim)) * truncation).astype(np.float32)
        dirs, sigma = image_pca_directions(module, zs, n_directions)
        latent = {
            "space": "z",
            "mean": [0.0] * latent_dim,
            "sampler": {"kind": "normal", "truncation": truncation},
        }
    manifest = {
        "format": MANIFEST_FORMAT,
        "name": name or out.name,
        "description": description,
        "onnx": "generator.onnx",
        "input": {"name": "latent", "dim": latent_dim},
        "output": {
            "name": "image",
            "channels": 3,
            "height": int(h),
            "width": int(w),
            "layout": "NCHW",
            "range": [lo, hi],
        },
        "latent": latent,
        "directions": {"vectors": np.round(dirs, 6).tolist(), "sigma": np.round(sigma, 6).tolist()},
        "license": license,
        "training_data": training_data,
    }
    if styles:
        manifest["styles"] = [{"name": n, "mean": c.tolist()} for n, c in zip(names, centres)]
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return out


def _style_samples(
    mapping: nn.Module,
    input_dim: int,
    styles: Sequence[str | tuple[str, np.ndarray]],
    samples: int,
    rng: np.random.Generator,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Names, centres [S, w] and `samples` w minus their style's centre, each of a random style."""
    names = [s if isinstance(s, str) else s[0] for s in styles]
    n = len(names)
    for name in names:
        if not STYLE_NAME.fullmatch(name):
            raise ValueError(f"style name {name!r} must be 1-64 of a-z, 0-9, '_' (it becomes an OSC address)")
    if len(set(names)) != n:
        raise ValueError(f"style names must be unique, got {names}")
    if input_dim <= n:
        raise ValueError(f"mapping_input_dim {input_dim} must be z_dim + {n} styles, more than {n}")
    z_dim = input_dim - n

    def run(labels: np.ndarray) -> np.ndarray:
        z = rng.standard_normal((len(labels), z_dim)).astype(np.float32)
        packed = np.concatenate([z, np.eye(n, dtype=np.float32)[labels]], axis=1)
        with torch.no_grad():
            return mapping(torch.from_numpy(packed)).numpy()

    centres = []
    for i, s in enumerate(styles):
        given = None if isinstance(s, str) else np.asarray(s[1], np.float32)
        centres.append(run(np.full(samples, i)).mean(0) if given is None else given.reshape(-1))
    centre = np.stack(centres).astype(np.float32)
    labels = rng.integers(0, n, samples)
    return names, centre, run(labels) - centre[labels]


def load_checkpoint_generator(path: Path):
    from models.networks import Generator, GeneratorConfig

    ck = torch.load(path, map_location="cpu", weights_only=False)
    g = Generator(GeneratorConfig.from_dict(ck["config"]))
    g.load_state_dict(ck["G_ema"])
    return g.eval(), ck


def main() -> None:
    ap = argparse.ArgumentParser(
        description="Export a models.train checkpoint to generator.onnx + manifest.json"
    )
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--truncation", type=float, default=0.8, help="ψ for sampling w (1 = no truncation)")
    ap.add_argument("--directions", type=int, default=16)
    ap.add_argument(
        "--samples", action="store_true", help="also write samples.png (8×8 grid + interpolation)"
    )
    args = ap.parse_args()
    g, ck = load_checkpoint_generator(args.checkpoint)
    export_generator(
        g.synthesis,
        args.out,
        g.cfg.w_dim,
        name=args.out.name,
        mapping=g.mapping,
        mapping_input_dim=g.cfg.z_dim,
        latent_mean=g.w_avg.numpy(),
        truncation=args.truncation,
        n_directions=args.directions,
        pca_samples=20000,
        license="MIT (weights and procedural training data made by this project)",
        training_data="4000 procedural painterly images (models/painterly.py, seed 0): "
        "marbling, watercolour, "
        "stained glass, contour paintings, brushed flow fields; 256x256",
        description=f"style-based GAN, {ck['step']} steps, schedule {ck.get('schedule')}",
    )
    if args.samples:
        from models.samples import write_samples

        write_samples(args.out, args.out / "samples.png")
    print(f"exported {args.out}")


if __name__ == "__main__":
    main()

"""A larger generator for the speed table: a trained model followed by a fixed resize in the graph.

    python -m models.upsized --model models/paintbox --size 512 --out /tmp/paintbox-512

The issue asks for ms/frame of "a larger generator (512² or 1024²) exported to the same contract".
No generator here has been trained at 512², so this writes a model folder whose graph is the real
trained network (its weights, its cost) with one bilinear Resize appended, and whose manifest
declares the larger output. It is a speed fixture: it measures what the contract costs at a larger
size (the output copy, the texture upload, a GPU provider's memory traffic); it adds no detail and
is not a new picture model. The folder's README.md and manifest description say so.

Only the `onnx` package is needed (requirements-train.txt), not torch, so a GPU machine's venv can
build it next to the bench (scripts/gpu_check.sh).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from engine.generator.manifest import ModelError, load_manifest
from models.derived import write_derived

NATIVE_SUFFIX = "_native"


def upsize_graph(src: Path, dst: Path, output_name: str, factor: int) -> None:
    """Rename the model's output to <name>_native and append Resize(×factor, bilinear) → <name>."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    outputs = [o for o in graph.output if o.name == output_name]
    if not outputs:
        raise ModelError(f"{src}: has no output '{output_name}'; see manifest.json")
    native = output_name + NATIVE_SUFFIX
    for node in graph.node:
        node.output[:] = [native if n == output_name else n for n in node.output]
        node.input[:] = [native if n == output_name else n for n in node.input]
    scales = numpy_helper.from_array(np.array([1, 1, factor, factor], np.float32), output_name + "_scales")
    graph.initializer.append(scales)
    # half_pixel + linear: the textbook bilinear upsampling (cv2.INTER_LINEAR gives the same pixels).
    graph.node.append(
        helper.make_node(
            "Resize",
            [native, "", scales.name],
            [output_name],
            name="upsized_resize",
            mode="linear",
            coordinate_transformation_mode="half_pixel",
        )
    )
    dims = outputs[0].type.tensor_type.shape.dim
    for d in dims[2:]:
        if d.HasField("dim_value"):
            d.dim_value *= factor
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def export_upsized(model_dir: Path, size: int, out: Path) -> Path:
    """Write the upsized model folder at `out` (width `size`); returns it."""
    m = load_manifest(model_dir)
    if size <= m.width or size % m.width:
        raise ModelError(
            f"--size {size}: must be a whole multiple (×2, ×3, …) of {m.folder}'s width {m.width}"
        )
    factor = size // m.width
    if out.resolve() == m.folder.resolve():
        raise ModelError(f"--out {out}: is the source model folder; choose another")
    out.mkdir(parents=True, exist_ok=True)
    raw = json.loads((m.folder / "manifest.json").read_text(encoding="utf-8"))
    upsize_graph(m.onnx, out / raw["onnx"], m.output_name, factor)
    raw["output"]["height"], raw["output"]["width"] = m.height * factor, m.width * factor
    description = (
        f"speed fixture: {m.name} ({m.width}x{m.height}) with a fixed bilinear x{factor} resize "
        "appended in the graph; benchmarks the contract at this size, not a new picture model"
    )
    write_derived(m, raw, out, f"{m.name}-{m.width * factor}", description)
    (out / "README.md").write_text(
        f"# {raw['name']}: a speed fixture\n\n"
        f"Made by `python -m models.upsized --model {model_dir} --size {size}`: the trained `{m.name}` "
        f"generator followed by one bilinear ×{factor} Resize, so the output contract is "
        f"{m.width * factor}×{m.height * factor}. It measures the cost of the contract at this size "
        "(engine.generator.bench); the pictures are the 256² model's, enlarged. Not for a show.\n",
        encoding="utf-8",
    )
    load_manifest(out)  # the result must meet the contract it claims
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="a model folder (manifest.json + ONNX)")
    ap.add_argument("--size", type=int, default=512, help="output width: a multiple of the model's")
    ap.add_argument("--out", type=Path, required=True, help="folder to write the upsized model into")
    args = ap.parse_args(argv)
    try:
        out = export_upsized(args.model, args.size, args.out)
    except ModelError as e:
        ap.exit(2, f"error: {e}\n")
    m = load_manifest(out)
    print(f"{out}: {m.name}, {m.width}x{m.height} (a speed fixture, see its README.md)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Serve the generator with NVIDIA Triton Inference Server.

    python -m engine.serve export --model DIR --repo REPO [--backend onnxruntime|python] [--name NAME]
    python -m engine.serve run --repo REPO [--grpc-port 8001] [--http-port 8000]

`export` writes a model repository: onnxruntime (default) for NVIDIA's Triton container, python
(ONNX Runtime inside model.py) for the server in the pytriton wheel. `run` starts that wheel's
server from .venv-triton on 127.0.0.1, for a try on one machine; the engine then takes
--generator triton://127.0.0.1:8001/NAME. The production set-up: docs/scale.md.
"""

from __future__ import annotations

import argparse
import sys

from engine.config import DEFAULT_MODEL
from engine.generator.manifest import ModelError
from engine.serve.export import BACKENDS, MAX_BATCH, export


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m engine.serve",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export", help="write a Triton model repository from a model folder")
    ex.add_argument("--model", default=str(DEFAULT_MODEL), metavar="DIR", help="default: models/painterly")
    ex.add_argument("--repo", required=True, metavar="REPO", help="model repository folder (created)")
    ex.add_argument("--backend", choices=BACKENDS, default="onnxruntime")
    ex.add_argument("--name", help="model name on the server (default: the manifest's name)")
    ex.add_argument("--max-batch", type=int, default=MAX_BATCH, help=f"max_batch_size (default {MAX_BATCH})")
    run = sub.add_parser("run", help="start the pytriton wheel's server on 127.0.0.1 (tests, one machine)")
    run.add_argument("--repo", required=True, metavar="REPO")
    run.add_argument("--grpc-port", type=int, default=8001)
    run.add_argument("--http-port", type=int, default=8000)
    args = ap.parse_args(argv)
    if args.command == "run":
        from engine.serve.server import main_run

        return main_run(args.repo, args.grpc_port, args.http_port)
    if not 1 <= args.max_batch <= 1024:
        ap.error("--max-batch must be 1..1024")
    try:
        out = export(args.model, args.repo, args.backend, args.name, args.max_batch)
    except (ModelError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out.config} and {out.model.parent}/ ({args.backend})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

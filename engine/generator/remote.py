"""The generator on a Triton Inference Server, called over the Open Inference Protocol (KServe v2).

When one GPU server draws for several projectors, each engine sends its latents there instead of
running the model itself. Only the generator moves: the manifest still comes from the model folder
and the mapping network (one run per keyframe) still runs here, through the very functions
OnnxGenerator uses, so a remote and a local run of the same model draw the same latents.

Two paths: `generate` answers synchronously (offline mode, tests); the realtime loop
(`run_remote_loop`) keeps several requests in flight so the round trip hides behind the frame
period, and shows the newest image that came back (one that returns after a newer one is dropped).
A server that goes away leaves the last picture on screen while `Link` retries; the server's model
is checked against the manifest on every (re)connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.generator.manifest import Manifest, ModelError, load_manifest
from engine.generator.onnx_generator import OnnxGenerator, _check_io_mapping
from engine.generator.providers import create_session
from engine.generator.remote_link import Link, RemoteUrl, parse_remote, short_reason
from engine.styles import from_manifest

if TYPE_CHECKING:
    from engine.realtime import RealtimeRunner

INFLIGHT = 3
TIMEOUT_S = 2.0
NOT_FOUND = ("StatusCode.NOT_FOUND", "404")

Done = Callable[[np.ndarray | None, BaseException | None], None]


class GeneratorUnreachable(ConnectionError):
    """The server did not answer (refused, timed out, gone mid-request); the message names its URL."""


def _tritonclient(url: RemoteUrl) -> tuple[Any, type[Exception]]:
    try:
        if url.protocol == "grpc":
            import tritonclient.grpc as client
        else:
            import tritonclient.http as client
        from tritonclient.utils import InferenceServerException
    except ImportError as e:
        raise ModelError(
            f"--generator {url.text} needs tritonclient ({e.name} missing): pip install -r requirements.txt"
        ) from None
    return client, InferenceServerException


def check_metadata(meta: dict, m: Manifest, url: RemoteUrl) -> None:
    """The server's model against the manifest: one line naming the URL and the field that differs."""
    where, manifest = f"generator server {url.text}", m.folder / "manifest.json"

    def tensor(kind: str, name: str) -> tuple[str, list[int]]:
        found = {t["name"]: t for t in meta.get(kind, [])}
        if name not in found:
            have = ", ".join(found) or "none"
            raise ModelError(f"{where}: {kind[:-1]} '{name}' missing (it has {have}); {manifest} names it")
        return str(found[name]["datatype"]), [int(d) for d in found[name]["shape"]]

    dtype, shape = tensor("inputs", m.input_name)
    if dtype != "FP32" or len(shape) != 2 or shape[1] != m.latent_dim:
        raise ModelError(
            f"{where}: input '{m.input_name}' is {dtype} {shape}, {manifest} says FP32 [-1, {m.latent_dim}]"
        )
    dtype, shape = tensor("outputs", m.output_name)
    want = [m.channels, m.height, m.width]
    if dtype not in ("FP32", "FP16") or len(shape) != 4 or shape[1:] != want:
        says = f"FP32 [-1, {m.channels}, {m.height}, {m.width}]"
        raise ModelError(f"{where}: output '{m.output_name}' is {dtype} {shape}, {manifest} says {says}")


class TritonGenerator:
    """OnnxGenerator's surface, the images drawn by a Triton server; plus `submit` for the async loop."""

    provider = "triton"
    # The manifest's half of OnnxGenerator: the same functions, not copies (they read manifest,
    # mapping, styles and generate, which this class has too).
    latent_dim = OnnxGenerator.latent_dim
    mean_latent = OnnxGenerator.mean_latent
    sample_latents = OnnxGenerator.sample_latents
    to_rgb8 = OnnxGenerator.to_rgb8
    generate_rgb = OnnxGenerator.generate_rgb

    def __init__(
        self,
        url: str,
        model_dir: str | Path,
        inflight: int = INFLIGHT,
        timeout_s: float = TIMEOUT_S,
        wait: bool = True,
    ) -> None:
        """`wait`: the server must answer now (offline, tools); False: start disconnected and retry
        (the installation starts before its server, or while it reboots)."""
        try:
            self.url = parse_remote(url)
        except ValueError as e:
            raise ModelError(str(e)) from None
        self.manifest: Manifest = load_manifest(model_dir)
        m = self.manifest
        self.styles = from_manifest(m)
        self.mapping = None
        if m.sampler.kind == "mapping":
            self.mapping, _ = create_session(m.sampler.onnx, "cpu", 1)
            _check_io_mapping(self.mapping, m)
        self.inflight, self.timeout_s = inflight, timeout_s
        self.link = Link(self.url)
        self._api, self._error = _tritonclient(self.url)
        self._grpc = self.url.protocol == "grpc"
        self._client: Any = None  # gRPC: one client, thread-safe; replaced on each reconnection
        self._epoch = 0  # HTTP: each thread's client (geventhttpclient is per thread) is of an epoch
        self._local = threading.local()
        self._pool = None if self._grpc else ThreadPoolExecutor(inflight, thread_name_prefix="triton-http")
        try:
            self.connect()
        except GeneratorUnreachable:
            if wait:
                raise

    # ------------------------------------------------------------ connection
    def _new_client(self) -> Any:
        if self._grpc:
            # grpc's own reconnection backoff grows to minutes; a fresh channel per try is ours to pace
            return self._api.InferenceServerClient(self.url.address)
        t = self.timeout_s
        return self._api.InferenceServerClient(self.url.address, connection_timeout=t, network_timeout=t)

    def _here(self) -> Any:
        """The client for this thread: gRPC's shared one; HTTP's own, renewed after a reconnection."""
        if self._grpc:
            return self._client
        local = self._local
        if getattr(local, "epoch", None) != self._epoch:
            old = getattr(local, "client", None)
            local.client, local.epoch = self._new_client(), self._epoch
            if old is not None:
                old.close()
        return local.client

    def connect(self) -> None:
        """Ask the server afresh; on success the link is up. ModelError: it serves something else."""
        client = self._new_client()
        try:
            self._check(client)
        except ModelError:
            client.close()
            raise
        except Exception as e:  # noqa: BLE001 - refused, reset, timed out: grpc, gevent and OSError types
            client.close()
            if isinstance(e, self._error) and str(e.status()) in NOT_FOUND:
                where = f"generator server {self.url.text}"
                raise ModelError(f"{where}: no model '{self.url.model}' there") from None
            raise self.lost(e, retry=True) from None
        old, self._client = self._client, client
        self._epoch += 1
        if old is not None:
            old.close()
        self.link.back()

    def _check(self, client: Any) -> None:
        """Ready, the model's metadata as the manifest says, and one real image of the right shape."""
        timeout = {"client_timeout": self.timeout_s} if self._grpc else {}
        if not client.is_server_ready(**timeout):
            raise GeneratorUnreachable("the server is not ready")
        as_json = {"as_json": True} if self._grpc else {}
        meta = client.get_model_metadata(self.url.model, **as_json, **timeout)
        check_metadata(meta, self.manifest, self.url)
        out = self._infer(client, self.mean_latent()[None])
        m = self.manifest
        if out.shape[1:] != (m.channels, m.height, m.width):
            raise ModelError(
                f"generator server {self.url.text}: produced {list(out.shape)}, "
                f"{m.folder / 'manifest.json'} says [B, {m.channels}, {m.height}, {m.width}]"
            )

    def lost(self, e: BaseException, retry: bool = False) -> GeneratorUnreachable:
        """Mark the link down (said once per outage); the error to raise where one is wanted."""
        reason = short_reason(e)
        self.link.lost(reason, retry)
        return GeneratorUnreachable(f"generator server {self.url.text} unreachable: {reason}")

    @property
    def healthy(self) -> bool:
        """Images flowing: only then may the watchdog count a silence or a still picture as a fault."""
        return self.link.delivering()

    def status(self) -> str:
        """The HUD's note: "" while the server answers."""
        return self.link.status()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            self._client.close()

    # ------------------------------------------------------------ inference
    def _request(self, latents: np.ndarray) -> tuple[list, list]:
        inp = self._api.InferInput(self.manifest.input_name, list(latents.shape), "FP32")
        inp.set_data_from_numpy(latents)
        return [inp], [self._api.InferRequestedOutput(self.manifest.output_name)]

    def _infer(self, client: Any, latents: np.ndarray) -> np.ndarray:
        inputs, outputs = self._request(latents)
        extra = {"client_timeout": self.timeout_s} if self._grpc else {}
        result = client.infer(self.url.model, inputs, outputs=outputs, **extra)
        return result.as_numpy(self.manifest.output_name).astype(np.float32, copy=False)

    def _latents(self, latents: np.ndarray) -> np.ndarray:
        latents = np.ascontiguousarray(latents, dtype=np.float32)
        if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
            raise ValueError(f"latents must be [batch, {self.latent_dim}], got {list(latents.shape)}")
        return latents

    def generate(self, latents: np.ndarray) -> np.ndarray:
        """[B, D] → [B, 3, H, W] float32, waiting for the server; GeneratorUnreachable if it is away."""
        latents = self._latents(latents)
        if not self.link.up:
            self.connect()
        try:
            return self._infer(self._here(), latents)
        except Exception as e:  # noqa: BLE001
            raise self.lost(e) from None

    def submit(self, latents: np.ndarray, done: Done) -> None:
        """Send without waiting; `done(images, None)` or `done(None, error)` runs on a client thread."""
        latents = self._latents(latents)
        if self._grpc:
            out = self.manifest.output_name

            def callback(result: Any, error: Exception | None) -> None:
                if error is not None:
                    done(None, error)
                else:
                    done(result.as_numpy(out).astype(np.float32, copy=False), None)

            inputs, outputs = self._request(latents)
            self._client.async_infer(
                self.url.model, inputs, callback, outputs=outputs, client_timeout=self.timeout_s
            )
            return
        future = self._pool.submit(lambda: self._infer(self._here(), latents))

        def finished(f: Future) -> None:
            error = f.exception()
            if error is not None:
                done(None, error)
            else:
                done(f.result(), None)

        future.add_done_callback(finished)


def run_remote_loop(runner: RealtimeRunner) -> None:
    """The realtime generator stage when the generator is remote (realtime.py delegates here)."""
    from engine.generator.remote_loop import RemoteLoop

    RemoteLoop(runner).run()

"""Several people's poses per frame, from the pose networks inside the mediapipe wheel.

The legacy solutions API (`mp.solutions.pose`) tracks one person, whoever its detector found
first. MediaPipe's Tasks PoseLandmarker tracks up to `num_poses`, but wants a `.task` bundle that
is normally downloaded. That bundle holds the same two networks the wheel already ships
(pose_detection.tflite, pose_landmark_<variant>.tflite), plus metadata saying how to scale the
input pixels, which the legacy graphs hard-code instead: [-1, 1] for the detector, [0, 1] for
the landmark model. Writing that metadata and zipping the two gives a working bundle with no
network; its landmarks match the legacy API's (tests/perception/test_viewer_people.py). All of
it happens in memory: nothing is written to disk (tests/test_privacy.py).
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from engine.perception.settings import POSE_MODEL_FILES

# (mean, std) per network: pixel → (pixel - mean) / std, as the legacy graphs' float ranges.
_DETECTOR_NORM = (127.5, 127.5)  # [-1, 1]
_LANDMARK_NORM = (0.0, 255.0)  # [0, 1]
_METADATA_ID = b"M001"  # flatbuffer file identifier of TFLite metadata (a model's is b"TFL3")


def _modules() -> Path:
    import mediapipe

    return Path(mediapipe.__file__).parent / "modules"


def _with_image_metadata(path: Path, norm: tuple[float, float]) -> bytes:
    """The model with input-normalisation metadata, made in memory.

    mediapipe's MetadataWriter would do the same through temporary files (a copy of the model
    in /tmp on every start), which an installation promising to write nothing must not do.
    """
    from mediapipe.tasks.cc.metadata.python import _pywrap_metadata_version
    from mediapipe.tasks.metadata import metadata_schema_py_generated as md_fb
    from mediapipe.tasks.metadata import schema_py_generated as tflite_fb
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_info, writer_utils

    model_buf = bytearray(path.read_bytes())
    image = metadata_info.InputImageTensorMd(
        norm_mean=[norm[0]],
        norm_std=[norm[1]],
        color_space_type=md_fb.ColorSpaceType.RGB,
        tensor_type=writer_utils.get_input_tensor_types(model_buf)[0],
    ).create_metadata()
    image.name = writer_utils.get_input_tensor_names(model_buf)[0]
    subgraph = md_fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [image]
    subgraph.outputTensorMetadata = []
    for name in writer_utils.get_output_tensor_names(model_buf):
        out = md_fb.TensorMetadataT()
        out.name = name
        subgraph.outputTensorMetadata.append(out)
    meta = md_fb.ModelMetadataT()
    meta.name = path.stem
    meta.subgraphMetadata = [subgraph]
    meta.minParserVersion = _pywrap_metadata_version.GetMinimumMetadataParserVersion(
        bytes(_finish(meta, _METADATA_ID))
    )

    model = tflite_fb.ModelT.InitFromObj(tflite_fb.Model.GetRootAsModel(model_buf, 0))
    buffer = tflite_fb.BufferT()
    buffer.data = _finish(meta, _METADATA_ID)
    model.buffers = [*(model.buffers or []), buffer]
    entry = tflite_fb.MetadataT()
    entry.name = "TFLITE_METADATA"
    entry.buffer = len(model.buffers) - 1
    model.metadata = [m for m in model.metadata or [] if m.name != b"TFLITE_METADATA"] + [entry]
    return bytes(_finish(model, b"TFL3"))


def _finish(table: Any, identifier: bytes) -> bytearray:
    import flatbuffers

    b = flatbuffers.Builder(0)
    b.Finish(table.Pack(b), identifier)
    return b.Output()


@cache
def pose_bundle(complexity: int) -> bytes:
    """The PoseLandmarker `.task` bundle for a pose model complexity, built in memory (~0.2 s)."""
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils as mab

    root = _modules()
    landmark = root / "pose_landmark" / POSE_MODEL_FILES[complexity]
    detector = root / "pose_detection" / "pose_detection.tflite"
    for path in (landmark, detector):
        if not path.is_file():
            raise FileNotFoundError(f"pose model {path} is not in the installed mediapipe wheel")
    models = {
        "pose_detector.tflite": _with_image_metadata(detector, _DETECTOR_NORM),
        "pose_landmarks_detector.tflite": _with_image_metadata(landmark, _LANDMARK_NORM),
    }
    buf = io.BytesIO()
    with mab.AlignZipFile(buf, mode="w", alignment=mab._ALIGNMENT) as zf:
        for name, data in models.items():
            zf.writestr(name, data)
    return buf.getvalue()


class MultiPose:
    """Up to `num_poses` poses per frame: landmarks (33 × 4: x, y, z, visibility) and masks.

    In video mode MediaPipe tracks each pose from its previous position and runs its person
    detector only while it tracks fewer than `num_poses` people; that detector is the extra cost
    of looking for more than one person (engine/perception/bench.py).
    """

    def __init__(
        self,
        *,
        complexity: int,
        num_poses: int,
        video: bool,
        segmentation: bool,
        min_detection_confidence: float,
        min_tracking_confidence: float,
    ) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        self._video = video
        self._last_ms = -1
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=pose_bundle(complexity)),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_poses=num_poses,
            min_pose_detection_confidence=min_detection_confidence,
            min_pose_presence_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
            output_segmentation_masks=segmentation,
        )
        self._landmarker: Any = vision.PoseLandmarker.create_from_options(options)

    def detect(self, image: np.ndarray, t: float) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """Poses in a contiguous RGB uint8 image captured at `t` seconds, each with its mask or None.

        Video timestamps must rise strictly; a capture clock that repeats or restarts is
        nudged forward by a millisecond, which only MediaPipe's smoothing sees.
        """
        import mediapipe as mp

        frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=image)
        if self._video:
            self._last_ms = max(self._last_ms + 1, int(round(t * 1000.0)))
            res = self._landmarker.detect_for_video(frame, self._last_ms)
        else:
            res = self._landmarker.detect(frame)
        masks = list(res.segmentation_masks or ())
        out = []
        for i, pose in enumerate(res.pose_landmarks):
            lm = np.array([[p.x, p.y, p.z, p.visibility] for p in pose], dtype=np.float64)
            mask = np.asarray(masks[i].numpy_view(), np.float32) if i < len(masks) else None
            out.append((lm, mask))
        return out

    def close(self) -> None:
        self._landmarker.close()

"""The one image converter: what cameras, files, tests and generators hand over becomes RGB uint8."""

from __future__ import annotations

import numpy as np
import pytest

from engine.images import as_rgb


def test_rgb_uint8_passes_through_without_a_copy() -> None:
    img = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    out = as_rgb(img)
    assert out is not None and np.shares_memory(out, img) and np.array_equal(out, img)


def test_bgr_and_bgra_are_reordered() -> None:
    bgr = np.zeros((4, 6, 3), np.uint8)
    bgr[...] = (10, 20, 30)  # blue 10, green 20, red 30 in OpenCV's order
    assert as_rgb(bgr, bgr=True)[0, 0].tolist() == [30, 20, 10]
    assert as_rgb(bgr)[0, 0].tolist() == [10, 20, 30]  # already RGB: untouched
    bgra = np.zeros((4, 6, 4), np.uint8)
    bgra[...] = (10, 20, 30, 99)
    assert as_rgb(bgra, bgr=True)[0, 0].tolist() == [30, 20, 10]
    assert as_rgb(bgra)[0, 0].tolist() == [10, 20, 30]  # RGBA: alpha dropped


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1)])
def test_gray_becomes_three_equal_channels(shape: tuple[int, ...]) -> None:
    gray = np.arange(35, dtype=np.uint8).reshape(shape)
    for bgr in (False, True):
        out = as_rgb(gray, bgr=bgr)
        assert out is not None and out.shape == (5, 7, 3)
        assert np.array_equal(out[:, :, 0], gray.reshape(5, 7)) and np.ptp(out, axis=2).max() == 0


def test_floats_round_and_read_their_scale() -> None:
    unit = np.array([[[0.0, 0.5, 1.0]]], np.float32)  # 0..1: a generator's convention
    assert as_rgb(unit)[0, 0].tolist() == [0, 128, 255]  # 127.5 rounds up, not down to 127
    eight_bit = np.array([[[0.0, 99.6, 300.0]]], np.float64)  # a float copy of an 8-bit image
    assert as_rgb(eight_bit)[0, 0].tolist() == [0, 100, 255]
    odd = np.array([[[np.nan, -3.0, 0.25]]], np.float32)
    assert as_rgb(odd)[0, 0].tolist() == [0, 0, 64]


def test_other_dtypes() -> None:
    mask = np.array([[True, False]])
    assert as_rgb(mask)[0].tolist() == [[255, 255, 255], [0, 0, 0]]
    wide = np.array([[[0, 200, 1000]]], np.uint16)
    assert as_rgb(wide)[0, 0].tolist() == [0, 200, 255]
    ints = np.array([[[-5, 7, 255]]], np.int64)
    assert as_rgb(ints)[0, 0].tolist() == [0, 7, 255]


def test_odd_layouts() -> None:
    big = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    crop = big[2:12:2, 3:20]  # a strided view
    out = as_rgb(crop)
    assert out.flags.c_contiguous and np.array_equal(out, crop)
    assert as_rgb(np.zeros((0, 0, 3), np.uint8)).shape == (0, 0, 3)
    assert as_rgb(np.zeros((0, 4), np.uint8)).shape == (0, 4, 3)


@pytest.mark.parametrize("shape", [(5,), (4, 4, 2), (4, 4, 5), (2, 4, 4, 3), ()])
def test_no_image_is_none(shape: tuple[int, ...]) -> None:
    assert as_rgb(np.zeros(shape, np.uint8)) is None

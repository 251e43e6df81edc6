"""A drawing or an upload -> a 28x28 uint8 digit the way MNIST made its digits.

The MNIST recipe (LeCun et al.): grey levels, white ink on black, the digit's bounding box
scaled to fit 20x20 keeping its aspect ratio, then placed in 28x28 so that its centre of
mass is at the centre. Students see this result: it is what the network sees.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # a phone photo fits; anything bigger is not a digit
MAX_PIXELS = 25_000_000  # checked from the header, before Pillow decodes anything


class ImageProblem(ValueError):
    """An input that cannot become a digit; the message is meant for the user."""


def load_image(data: bytes) -> Image.Image:
    """Decode uploaded bytes safely: size limits first, first frame, EXIF rotation."""
    if not data:
        raise ImageProblem("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageProblem(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    size = header_size(data)
    if size and size[0] * size[1] > MAX_PIXELS:  # our limit first, Pillow's bomb guard after
        raise ImageProblem(
            f"The image is {size[0]}x{size[1]} pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels."
        )
    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size  # read from the header only
        if w * h > MAX_PIXELS:
            raise ImageProblem(
                f"The image is {w}x{h} pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels."
            )
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)  # animated GIF / multi-page TIFF: the first frame
        img.load()
        img = ImageOps.exif_transpose(img)
    except ImageProblem:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageProblem("The image is too large to open safely.") from exc
    except (OSError, SyntaxError, ValueError) as exc:  # what Pillow raises for bad files
        raise ImageProblem("This file is not an image that can be read (PNG, JPEG, BMP or GIF).") from exc
    return img


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, GIF, BMP or JPEG header, without decoding; None if unknown.

    Kept rather than Pillow's lazy ``Image.open`` + ``Image.MAX_IMAGE_PIXELS``: Pillow refuses
    an image over twice that limit inside ``open`` with a message that gives no size, so a
    student would read "too large" instead of "20000x20000 pixels; the limit is 25" (checked,
    tests/test_bad_input.py::test_a_huge_image_is_refused_before_decoding).
    """
    import struct

    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"BM" and len(data) >= 26:
        w, h = struct.unpack("<ii", data[18:26])
        return abs(w), abs(h)
    if data[:2] == b"\xff\xd8":
        k = 2
        while k + 9 < len(data) and data[k] == 0xFF:
            marker, length = data[k + 1], struct.unpack(">H", data[k + 2 : k + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
                h, w = struct.unpack(">HH", data[k + 5 : k + 9])
                return w, h
            k += 2 + length
    return None


def to_grey(img: Image.Image | np.ndarray) -> np.ndarray:
    """Float grey levels in [0, 255], white ink on black.

    Transparent pixels become the colour opposite to the ink, so both a canvas stroke
    (white on transparent) and a black-on-transparent PNG keep their ink. A light
    background (judged by the border) is inverted.
    """
    if isinstance(img, np.ndarray):
        arr = img
        if arr.ndim == 3 and arr.shape[2] == 4:
            img = Image.fromarray(arr.astype(np.uint8), "RGBA")
        elif arr.ndim == 3 and arr.shape[2] == 3:
            img = Image.fromarray(arr.astype(np.uint8), "RGB")
        elif arr.ndim == 2:
            a = arr.astype(np.float64)
            if a.max() <= 1.0 and a.dtype.kind == "f":
                a = a * 255.0
            img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L")
        else:
            raise ImageProblem(f"An image array must be HxW, HxWx3 or HxWx4, not {arr.shape}.")
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(img, dtype=np.float64)
        peak = a.max() if a.max() > 0 else 1.0
        img = Image.fromarray((a / peak * 255).astype(np.uint8), "L")
    if img.mode == "P" or img.mode == "LA" or "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        rgba = np.asarray(img, dtype=np.float64)
        alpha = rgba[..., 3:4] / 255.0
        lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
        opaque = alpha[..., 0] > 0.5
        ink_is_light = opaque.any() and lum[opaque].mean() > 127 and opaque.mean() < 0.5
        background = 0.0 if ink_is_light else 255.0
        grey = lum * alpha[..., 0] + background * (1 - alpha[..., 0])
    else:
        grey = np.asarray(img.convert("L"), dtype=np.float64)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) > 127:
        grey = 255.0 - grey
    return grey


def to_mnist(img: Image.Image | np.ndarray | bytes) -> np.ndarray:
    """Any readable picture of one digit -> uint8 (28, 28), MNIST-style.

    Raises ImageProblem with a sentence for the user when there is no digit to see.
    """
    if isinstance(img, (bytes, bytearray)):
        img = load_image(bytes(img))
    grey = to_grey(img)
    lo, hi = np.percentile(grey, 1), grey.max()
    if hi - lo < 30:
        raise ImageProblem("The image is blank: there is no ink to read. Draw or upload a digit.")
    grey = np.clip((grey - lo) / (hi - lo), 0, 1)
    ink = grey > 0.2  # faint scanner noise and JPEG ringing stay out of the bounding box
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    h, w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    if max(h, w) < max(3, 0.06 * max(grey.shape)):
        raise ImageProblem("The mark is too small to be a digit: draw it larger.")
    crop = grey[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = 20.0 / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = Image.fromarray((crop * 255).astype(np.uint8), "L").resize((new_w, new_h), Image.LANCZOS)
    small = np.asarray(small, dtype=np.float64)
    total = small.sum()
    cy = (small.sum(1) @ np.arange(new_h)) / total
    cx = (small.sum(0) @ np.arange(new_w)) / total
    top, left = int(round(13.5 - cy)), int(round(13.5 - cx))
    top, left = min(max(top, 0), 28 - new_h), min(max(left, 0), 28 - new_w)
    out = np.zeros((28, 28), np.float64)
    out[top : top + new_h, left : left + new_w] = small
    return np.clip(out / out.max() * 255.0, 0, 255).astype(np.uint8)


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    a = img.astype(np.float64)
    total = a.sum()
    return (
        float((a.sum(1) @ np.arange(a.shape[0])) / total),
        float((a.sum(0) @ np.arange(a.shape[1])) / total),
    )

"""A drawing or an upload -> a 28x28 uint8 digit the way MNIST made its digits.

The MNIST recipe (LeCun et al.): grey levels, white ink on black, the digit's bounding box
scaled to fit 20x20 keeping its aspect ratio, then placed in 28x28 so that its centre of
mass is at the centre. Students see this result: it is what the network sees.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from siamese_core.i18n import N_, _

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # a phone photo fits; anything bigger is not a digit
MAX_PIXELS = 25_000_000  # checked from the header, before Pillow decodes anything


class ImageProblem(ValueError):
    """An input that cannot become a digit; the message is meant for the user.

    It is an English message marked with ``N_()`` and its named fields, put into the reader's
    language when it is read (``str(problem)`` on a page's script run: siamese_core/i18n.py), so a
    problem found anywhere reads in the language of whoever sees it (English in the CLI and logs).
    """

    def __init__(self, message: str, **fields) -> None:
        super().__init__(message)
        self.message, self.fields = message, fields

    def __str__(self) -> str:
        return _(self.message).format(**self.fields)


def load_image(data: bytes) -> Image.Image:
    """Decode uploaded bytes safely: size limits first, first frame, EXIF rotation."""
    if not data:
        raise ImageProblem(N_("The file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageProblem(N_("The file is larger than {megabytes} MB."), megabytes=MAX_UPLOAD_BYTES // 2**20)
    size = header_size(data)
    if size and size[0] * size[1] > MAX_PIXELS:  # our limit first, Pillow's bomb guard after
        raise too_many_pixels(*size)
    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size  # read from the header only
        if w * h > MAX_PIXELS:
            raise too_many_pixels(w, h)
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)  # animated GIF / multi-page TIFF: the first frame
        img.load()
        img = ImageOps.exif_transpose(img)
    except ImageProblem:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageProblem(N_("The image is too large to open safely.")) from exc
    except (OSError, SyntaxError, ValueError) as exc:  # what Pillow raises for bad files
        raise ImageProblem(N_("This file is not an image that can be read (PNG, JPEG, BMP or GIF).")) from exc
    return img


def too_many_pixels(width: int, height: int) -> ImageProblem:
    return ImageProblem(
        N_("The image is {width}x{height} pixels; the limit is {megapixels} megapixels."),
        width=width,
        height=height,
        megapixels=MAX_PIXELS // 1_000_000,
    )


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, GIF, BMP or JPEG header, without decoding; None if unknown.

    Kept rather than Pillow's lazy ``Image.open`` + ``Image.MAX_IMAGE_PIXELS``: Pillow refuses
    an image over twice that limit inside ``open`` with a message that gives no size, so a
    student would read "too large" instead of "20000x20000 pixels; the limit is 25" (checked,
    tests/ui/test_bad_input.py::test_a_huge_image_is_refused_before_decoding).
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
            raise ImageProblem(
                N_("An image array must be HxW, HxWx3 or HxWx4, not {shape}."), shape=arr.shape
            )
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


WORK_SIDE = 512  # photos are shrunk to this longest side first: a 12 MP frame in ~0.1 s, not seconds
MIN_CONTRAST = 40.0  # grey levels between paper and ink, after the background is removed
MIN_PART = 0.08  # a stroke piece smaller than this share of the largest one is a speck
MAX_PARTS = 8  # more separate shapes than this is not one digit (a face, a page of text)


@dataclass(frozen=True)
class Steps:
    """What the preprocessing did, for a student to see why a verdict went wrong.

    picture: the input as grey levels (0..255, ink light), shrunk to ``WORK_SIDE``;
    ink: the pixels judged to be the digit's strokes (bool, same shape);
    digit: the 28x28 uint8 MNIST-style image the network sees.
    """

    picture: np.ndarray
    ink: np.ndarray
    digit: np.ndarray


def _shrink(grey: np.ndarray) -> np.ndarray:
    side = max(grey.shape)
    if side <= WORK_SIDE:
        return grey
    scale = WORK_SIDE / side
    size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
    return np.asarray(Image.fromarray(grey.astype(np.float32), "F").resize(size, Image.BILINEAR), np.float64)


def remove_background(grey: np.ndarray) -> np.ndarray:
    """Ink (light) minus the paper's own light level, estimated at each pixel.

    Paper under a lamp or a window is lit unevenly but smoothly: a tilt and a vignette. A
    quadratic surface fitted to the picture, with the ink left out (pixels far above the fit
    are dropped and the fit redone), follows that light; subtracting it leaves the ink on a
    flat black background, and the shading no longer reads as ink. A grey-level opening
    (a minimum then a maximum filter wider than any stroke) catches what the surface cannot,
    such as a shadow's edge: the background is the higher of the two.
    """
    from scipy import ndimage

    paper = float(np.median(grey))
    if np.mean(grey == paper) > 0.5:  # a drawing or a clean scan: one flat background level
        return np.clip(grey - paper, 0, None)
    h, w = grey.shape
    step = max(1, max(h, w) // 128)  # fit on at most ~128x128 points: a few milliseconds
    ys, xs = np.mgrid[0:h:step, 0:w:step]
    values = grey[::step, ::step].ravel()

    def terms(y, x):
        y, x = y / max(h, w), x / max(h, w)
        return np.stack([np.ones_like(y), y, x, y * y, x * x, x * y], axis=-1)

    design = terms(ys.ravel().astype(float), xs.ravel().astype(float))
    keep = np.ones(len(values), bool)
    for _fit in range(3):
        coef, *_fit_details = np.linalg.lstsq(design[keep], values[keep], rcond=None)
        residual = values - design @ coef
        spread = 1.4826 * np.median(np.abs(residual[keep])) + 1.0
        keep = residual < 2.5 * spread  # ink lies far above the paper
    y, x = np.arange(h)[:, None] / max(h, w), np.arange(w)[None, :] / max(h, w)
    surface = coef[0] + coef[1] * y + coef[2] * x + coef[3] * y * y + coef[4] * x * x + coef[5] * x * y
    window = max(15, max(h, w) // 4)
    opened = ndimage.grey_opening(grey, size=(window, window), mode="nearest")
    return np.clip(grey - np.maximum(surface, opened), 0, None)


def _ink_light(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(grey, background-free grey) with the ink light, whichever way round the picture came.

    ``to_grey`` inverts a light border, which a clean scan has; a photo of paper can have a
    dark corner, or paper darker than mid-grey. Paper is most of the picture, so its level is
    the median; when the median lies nearer the lightest point than the darkest, the paper is
    the light side and the picture is inverted. (3x3 median first: grain is not ink.)
    """
    from scipy import ndimage

    smooth = ndimage.median_filter(grey, size=3)
    low, high, paper = float(smooth.min()), float(smooth.max()), float(np.median(grey))
    if paper - low > high - paper:
        grey = 255.0 - grey
    return grey, remove_background(grey)


def find_ink(flat: np.ndarray) -> np.ndarray:
    """The digit's strokes in a background-free image: Otsu's threshold (chosen from the image's
    own histogram), then connected components: specks go, the digit's pieces stay.

    Raises ImageProblem when there is no ink or when what is there is not one digit.
    """
    from skimage.filters import threshold_otsu
    from skimage.measure import label, regionprops

    peak = float(flat.max())
    noise = 1.4826 * float(np.median(np.abs(flat - np.median(flat))))  # the paper's grain, robustly
    if peak < max(MIN_CONTRAST, 8 * noise):
        raise ImageProblem(
            N_(
                "No digit found: the picture is blank or has too little contrast between ink and "
                "paper. Write darker, or light the paper evenly."
            )
        )
    threshold = max(threshold_otsu(flat), 0.25 * peak)
    mask = flat > threshold
    labels = label(mask, connectivity=2)
    parts = sorted(regionprops(labels), key=lambda r: r.area, reverse=True)
    largest = parts[0]
    shapes = [r for r in parts if r.area >= MIN_PART * largest.area]
    if len(shapes) > MAX_PARTS:  # a face, a page of text, a busy desk
        raise ImageProblem(
            N_(
                "No single digit found: the picture holds {shapes} separate shapes. "
                "Photograph one digit on plain paper, filling a good part of the frame."
            ),
            shapes=len(shapes),
        )
    keep = [r for r in shapes if _near(r, largest)]
    return np.isin(labels, [r.label for r in keep])


def _near(part, largest) -> bool:
    """A piece belongs to the digit when it lies within one digit-size of its largest stroke."""
    top, left, bottom, right = largest.bbox
    reach = max(bottom - top, right - left)
    y, x = part.centroid
    return top - reach <= y <= bottom + reach and left - reach <= x <= right + reach


def to_mnist_steps(img: Image.Image | np.ndarray | bytes) -> Steps:
    """Any readable picture of one digit -> :class:`Steps`, ending in MNIST's 28x28.

    Raises ImageProblem with a sentence for the user when there is no digit to see.
    """
    from scipy import ndimage

    if isinstance(img, (bytes, bytearray)):
        img = load_image(bytes(img))
    grey = _shrink(to_grey(img))
    if np.ptp(grey) < 30:
        raise ImageProblem(N_("The image is blank: there is no ink to read. Draw or upload a digit."))
    grey, flat = _ink_light(grey)
    ink = find_ink(flat)
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    h, w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    if max(h, w) < max(3, 0.06 * max(grey.shape)):
        raise ImageProblem(N_("The mark is too small to be a digit: draw it larger."))
    # the strokes' own grey levels (anti-aliased edges included), nothing of the paper around them
    strokes = ndimage.binary_dilation(ink, iterations=1)
    level = np.clip(flat / max(np.percentile(flat[ink], 95), 1e-6), 0, 1) * strokes
    crop = level[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return Steps(picture=np.clip(grey, 0, 255).astype(np.uint8), ink=ink, digit=_mnist_box(crop))


def to_mnist(img: Image.Image | np.ndarray | bytes) -> np.ndarray:
    """Any readable picture of one digit -> uint8 (28, 28), MNIST-style (see :func:`to_mnist_steps`)."""
    return to_mnist_steps(img).digit


def _mnist_box(crop: np.ndarray) -> np.ndarray:
    """MNIST's last steps: the crop (0..1, ink light) fitted in 20x20 keeping its aspect ratio,
    then placed in 28x28 with its centre of mass at the centre."""
    h, w = crop.shape
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

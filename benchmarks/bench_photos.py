"""Digits photographed on paper vs clean renders: verdict accuracy and Compare's latency.

    python benchmarks/bench_photos.py [--pairs 200] [--seed 0] [--json out.json]

Makes its own photo-like pictures from MNIST test digits (full MNIST from Keras's cache when it
is there, else the embedded set's test split): light grey paper under uneven light with grain,
dark ink (thick marker or thin pen), the digit small somewhere in a 400x300 frame, turned by up
to 15 degrees, a slight paper tint, JPEG at quality 70. The clean render of the same digit is dark
ink on white, centred, as a PNG. Each pair is judged by the pretrained default model at its
threshold, through the preprocessing of today (``after``) and through the one before photos
were handled (``before``, kept below as the frozen baseline). Latency: to_mnist + the verdict,
for a canvas drawing and for a 12-megapixel photo, median and 95th percentile.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from siamese_core.network.preprocessing import ImageProblem, load_image, to_grey, to_mnist  # noqa: E402


def before_to_mnist(img) -> np.ndarray:
    """The preprocessing before this benchmark (git 3031b97), frozen here as the baseline: a global
    percentile stretch, a fixed 0.2 threshold, the bounding box of everything above it."""
    if isinstance(img, (bytes, bytearray)):
        img = load_image(bytes(img))
    grey = to_grey(img)
    lo, hi = np.percentile(grey, 1), grey.max()
    if hi - lo < 30:
        raise ImageProblem("blank")
    grey = np.clip((grey - lo) / (hi - lo), 0, 1)
    ink = grey > 0.2
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    h, w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    if max(h, w) < max(3, 0.06 * max(grey.shape)):
        raise ImageProblem("too small")
    crop = grey[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    from siamese_core.network.preprocessing import _mnist_box

    return _mnist_box(crop)


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kw)
    return buffer.getvalue()


def clean_render(digit: np.ndarray) -> bytes:
    """A clean scan: dark ink on white, the digit 200 px tall in a 280x280 PNG."""
    ink = np.asarray(Image.fromarray(digit).resize((200, 200), Image.BICUBIC), np.float64) / 255
    page = np.full((280, 280), 255.0)
    page[40:240, 40:240] = 255 * (1 - ink)
    return encode(Image.fromarray(page.astype(np.uint8)), "PNG")


def photo_like(digit: np.ndarray, rng: np.random.Generator, frame=(400, 300), scale: float = 1.0) -> bytes:
    """A phone's photo of the digit written on paper (see the module's docstring)."""
    from scipy import ndimage

    width, height = int(frame[0] * scale), int(frame[1] * scale)
    size = int(rng.integers(50, 121) * scale)  # the 28x28 box's side: the digit ~36-86 px tall
    ink = np.asarray(Image.fromarray(digit).resize((size, size), Image.BICUBIC), np.float64) / 255
    if rng.random() < 0.5:  # thick marker
        ink = ndimage.maximum_filter(ink, size=max(2, int(rng.integers(2, 6) * scale)))
    else:  # thin pen
        ink = np.clip((ink - 0.35) / 0.35, 0, 1)
    turned = Image.fromarray((ink * 255).astype(np.uint8)).rotate(
        rng.uniform(-15, 15), Image.BICUBIC, expand=True
    )
    ink = np.asarray(turned, np.float64) / 255
    yy, xx = np.mgrid[0:height, 0:width] / max(width, height)
    angle = rng.uniform(0, 2 * np.pi)
    light = rng.uniform(150, 205) + rng.uniform(30, 70) * ((np.cos(angle) * xx + np.sin(angle) * yy) - 0.5)
    light -= rng.uniform(10, 30) * ((xx - 0.5) ** 2 + (yy - 0.4) ** 2)  # a vignette
    page = light + rng.normal(0, rng.uniform(3, 8), light.shape)  # grain
    top = int(rng.integers(0, height - ink.shape[0]))
    left = int(rng.integers(0, width - ink.shape[1]))
    ink_grey = rng.uniform(20, 70)
    region = page[top : top + ink.shape[0], left : left + ink.shape[1]]
    page[top : top + ink.shape[0], left : left + ink.shape[1]] = region * (1 - ink) + ink_grey * ink
    tint = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 0.97)])  # paper under warm light
    rgb = np.clip(page[..., None] * tint, 0, 255).astype(np.uint8)
    return encode(Image.fromarray(rgb, "RGB"), "JPEG", quality=70)


def test_digits():
    from siamese_core.network.data import DatasetUnavailable, load_dataset

    try:
        data = load_dataset("mnist")
    except DatasetUnavailable:
        data = load_dataset("mnist-5k")
    return data.name, data.test.x, data.test.y


def verdicts(model, threshold, pairs, images, preprocess) -> np.ndarray:
    """True where the verdict is right; a picture the preprocessing refuses counts as wrong."""
    from siamese_core.network.compare import compare_pair

    right = []
    for (a, b), same in pairs:
        try:
            verdict = compare_pair(model, preprocess(images[a]), preprocess(images[b]), threshold)
            right.append(verdict.same == same)
        except (ImageProblem, IndexError, ValueError):
            right.append(False)
    return np.array(right)


def latency_ms(model, threshold, picture, repeats: int = 30) -> tuple[float, float]:
    from siamese_core.network.compare import compare_pair

    reference = to_mnist(picture)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        compare_pair(model, to_mnist(picture), reference, threshold)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times)), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json")
    args = parser.parse_args()
    from siamese_core.network.persistence import load_default

    model, meta = load_default()
    threshold = float(meta["threshold"])
    name, x, y = test_digits()
    rng = np.random.default_rng(args.seed)
    pairs, chosen = [], set()
    for k in range(args.pairs):
        a = int(rng.integers(len(y)))
        pool = np.flatnonzero(y == y[a]) if k % 2 == 0 else np.flatnonzero(y != y[a])
        b = int(rng.choice(pool[pool != a]))
        pairs.append(((a, b), k % 2 == 0))
        chosen |= {a, b}
    clean = {i: clean_render(x[i]) for i in chosen}
    photos = {i: photo_like(x[i], rng) for i in chosen}
    rows = {}
    for label, pictures in (("clean renders", clean), ("photo-like", photos)):
        for version, preprocess in (("before", before_to_mnist), ("after", to_mnist)):
            rows[(label, version)] = float(verdicts(model, threshold, pairs, pictures, preprocess).mean())
    canvas = np.zeros((252, 252, 4), np.uint8)
    canvas[40:210, 115:135] = 255  # a drawn "1", as the canvas hands it over (RGBA)
    twelve_mp = photo_like(x[0], np.random.default_rng(1), scale=10.0)  # 4000x3000
    timings = {
        "canvas drawing": latency_ms(model, threshold, canvas),
        "12-megapixel photo": latency_ms(model, threshold, twelve_mp, repeats=10),
    }
    print(
        f"{args.pairs} pairs of {name} test digits (half same), pretrained default model, threshold {threshold:.3f}"
    )
    print(f"{'pictures':<16}{'before':>10}{'after':>10}")
    for label in ("clean renders", "photo-like"):
        print(f"{label:<16}{100 * rows[(label, 'before')]:>9.1f}%{100 * rows[(label, 'after')]:>9.1f}%")
    for label, (p50, p95) in timings.items():
        print(f"latency, {label}: median {p50:.1f} ms, p95 {p95:.1f} ms")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "pairs": args.pairs,
                    "data": name,
                    "accuracy": {f"{label} / {version}": value for (label, version), value in rows.items()},
                    "latency_ms": timings,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()

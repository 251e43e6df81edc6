"""The transfer post: transfer learning from a partial checkpoint, and a few-labels experiment.

"Load every variable but the logits": a classifier built from the same feature branch
plus a new softmax layer receives every Siamese variable whose name it shares; its new
head keeps its fresh initialisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from siamese_core.config import SiameseConfig
from siamese_core.i18n import N_, _, current_language, ngettext
from siamese_core.lessons import ShownText

if TYPE_CHECKING:  # TensorFlow only where a model is built or run: the web server imports this module
    from siamese_core.network._keras import keras


def build_classifier(config: SiameseConfig, n_classes: int = 10) -> keras.Model:
    """The Siamese feature branch (named ``branch``, like a shared Siamese branch) + softmax."""
    from siamese_core.network._keras import keras, layers
    from siamese_core.network.models import IMAGE_SHAPE, build_branch

    inp = keras.Input(IMAGE_SHAPE, dtype="uint8", name="image")
    branch = build_branch(config.branch, config.embedding_dim, name="branch")
    out = layers.Dense(n_classes, activation="softmax", name="logits")(branch(inp))
    return keras.Model(inp, out, name="classifier")


def restore_all_but_head(classifier: keras.Model, siamese: keras.Model) -> list[str]:
    """Copy the Siamese model's variables into the classifier by name, except the head.

    An unshared Siamese model's ``branch_a`` (input A's branch) stands in for ``branch``.
    Returns the names restored. The classifier's ``logits`` are left as initialised.
    """
    from siamese_core.network.persistence import load_weights_npz, named_variables, weights_npz

    source = named_variables(siamese)
    if not any(k.startswith("branch/") for k in source):
        # unshared: rename branch_a/a_dense_1/kernel -> branch/dense_1/kernel
        arrays = {}
        for k, v in source.items():
            if k.startswith("branch_a/"):
                arrays["branch/" + k.split("/", 1)[1].removeprefix("a_")] = np.asarray(v.numpy())
        import io

        buf = io.BytesIO()
        np.savez(buf, **arrays)
        data = buf.getvalue()
    else:
        data = weights_npz(siamese)
    return load_weights_npz(classifier, data, skip=("logits",))


def few_shot_sample(y: np.ndarray, k: int, rng: np.random.Generator, classes=range(10)) -> np.ndarray:
    return np.concatenate([rng.choice(np.flatnonzero(y == c), k, replace=False) for c in classes])


def nearest_neighbour_accuracy(emb_train, y_train, emb_test, y_test) -> float:
    from siamese_core.network.evaluation import pairwise_distances

    d = pairwise_distances(emb_test.astype(np.float64), emb_train.astype(np.float64))
    return float(np.mean(y_train[np.argmin(d, axis=1)] == y_test))


def _fit(model, x, y, epochs, lr, seed):
    from siamese_core.network._keras import keras

    keras.utils.set_random_seed(seed)
    model.compile(
        optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)


def _accuracy(model, x, y) -> float:
    p = model.predict(x, verbose=0, batch_size=1024)
    return float(np.mean(np.argmax(p, axis=1) == y))


@dataclass(frozen=True)
class KShotRow:
    """Test accuracy with ``k`` labelled digits per class, each of the four ways."""

    k: int
    labelled: int  # labelled digits in all
    nearest_neighbour: float  # nearest labelled neighbour in the Siamese embedding, no training
    frozen: float  # the transferred encoder, frozen, a new softmax head trained
    fine_tuned: float  # the same, then everything fine-tuned
    scratch: float  # the same network trained from scratch on the k examples

    def accuracy(self, way: str) -> float:
        return getattr(self, way)

    def as_row(self) -> dict[str, float | int]:
        """The row of the page's table, under its column names (English: the page shows ``_(name)``)."""
        return {"k": self.k, LABELLED: self.labelled} | {
            WAY_NAMES[way]: self.accuracy(way) for way in (*SIAMESE_WAYS, SCRATCH)
        }


def k_shot_experiment(
    siamese: keras.Model,
    config: SiameseConfig,
    dataset,
    ks=(1, 5, 10),
    epochs: int = 30,
    test_size: int = 1000,
    seed: int = 0,
    report=None,
) -> list[KShotRow]:
    """Test accuracy with k labelled digits per class, four ways:

    (a) nearest labelled neighbour in the Siamese embedding (no training);
    (b) transferred encoder, frozen, new softmax head trained;
    (c) the same, then everything fine-tuned at a lower learning rate;
    (d) the same network trained from scratch on the k examples.

    ``report(fraction, message)``, when given, is called before each of the 3 trainings per k.
    """
    report = report or (lambda fraction, message: None)
    from siamese_core.network.evaluation import embed

    rng = np.random.default_rng(seed)
    test = rng.permutation(len(dataset.test.y))[:test_size]
    xt, yt = dataset.test.x[test], dataset.test.y[test]
    classes = sorted(set(dataset.train.y.tolist()))
    emb_test = embed(siamese, xt)
    rows = []
    for n, k in enumerate(ks):
        report(
            n / len(ks), ShownText(N_("k = {k}: nearest neighbour, then the transferred encoder frozen"), k=k)
        )
        idx = few_shot_sample(dataset.train.y, k, rng, classes)
        x, y = dataset.train.x[idx], dataset.train.y[idx]
        nn = nearest_neighbour_accuracy(embed(siamese, x), y, emb_test, yt)
        transferred = build_classifier(config)
        restore_all_but_head(transferred, siamese)
        transferred.get_layer("branch").trainable = False
        _fit(transferred, x, y, epochs, 1e-2, seed)
        frozen = _accuracy(transferred, xt, yt)
        transferred.get_layer("branch").trainable = True
        report((n + 1 / 3) / len(ks), ShownText(N_("k = {k}: fine-tuning the transferred encoder"), k=k))
        _fit(transferred, x, y, epochs, 1e-4, seed)
        tuned = _accuracy(transferred, xt, yt)
        report((n + 2 / 3) / len(ks), ShownText(N_("k = {k}: the same network from scratch"), k=k))
        scratch = build_classifier(config)
        _fit(scratch, x, y, epochs, 1e-3, seed)
        rows.append(KShotRow(k, len(idx), nn, frozen, tuned, _accuracy(scratch, xt, yt)))
    return rows


def k_shot_lesson(
    report, model: keras.Model, config: SiameseConfig, data, epochs: int = 30
) -> list[KShotRow]:
    """The More lessons task: :func:`k_shot_experiment` with the worker's progress callback."""
    return k_shot_experiment(model, config, data, epochs=epochs, report=report)


SIAMESE_WAYS = ("nearest_neighbour", "frozen", "fine_tuned")  # the fields of KShotRow, in order
SCRATCH = "scratch"
LABELLED = N_("labelled digits")  # the table's second column
WAY_NAMES = {  # the table's columns and the chart's lines (translated where shown: _(name))
    "nearest_neighbour": N_("nearest neighbour (Siamese embedding)"),
    "frozen": N_("transferred encoder, frozen"),
    "fine_tuned": N_("transferred encoder, fine-tuned"),
    "scratch": N_("from scratch"),
}


def k_shot_conclusion(rows: list[KShotRow]) -> str:
    """The sentence that states the k-shot experiment's result, read off its numbers, in the
    reader's language (built where it is shown, never in the worker)."""
    first = min(rows, key=lambda row: row.k)
    best_way = max(SIAMESE_WAYS, key=first.accuracy)
    best, scratch = first.accuracy(best_way), first.scratch
    fields = dict(k=first.k, name=_(WAY_NAMES[best_way]), best=best, scratch=scratch)
    if best > scratch:
        verdict = ngettext(
            "With one label per class, the best use of the Siamese features ({name}, {best:.1%}) "
            "beats the network trained from scratch ({scratch:.1%}) by {points:.1f} points.",
            "With {k} labels per class, the best use of the Siamese features ({name}, {best:.1%}) "
            "beats the network trained from scratch ({scratch:.1%}) by {points:.1f} points.",
            first.k,
        ).format(points=100 * (best - scratch), **fields)
    elif best == scratch:
        verdict = ngettext(
            "With one label per class, the Siamese features and training from scratch tie at {best:.1%}.",
            "With {k} labels per class, the Siamese features and training from scratch tie at {best:.1%}.",
            first.k,
        ).format(**fields)
    else:
        verdict = ngettext(
            "With one label per class, the network trained from scratch ({scratch:.1%}) beats every use "
            "of the Siamese features (best: {name}, {best:.1%}).",
            "With {k} labels per class, the network trained from scratch ({scratch:.1%}) beats every use "
            "of the Siamese features (best: {name}, {best:.1%}).",
            first.k,
        ).format(**fields)
    last = max(rows, key=lambda row: row.k)
    if last is first:
        return verdict
    gap = max(last.accuracy(way) for way in SIAMESE_WAYS) - last.scratch
    then = _("At k = {k}, the best Siamese way minus from scratch is {points:+.1f} points.").format(
        k=last.k, points=100 * gap
    )
    return verdict + ("" if current_language() == "zh" else " ") + then

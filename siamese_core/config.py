"""The one configuration object of a Siamese experiment, its presets, and URL round-trip.

Nothing here imports TensorFlow, so pages and the command line can read and validate a
configuration before paying for the TensorFlow import.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, get_args

from siamese_core.i18n import N_, _

# The label convention, stated once. The Keras mnist_siamese example uses 1 for a
# pair of the same digit; Hadsell et al. 2006 use the opposite. Everything here uses these.
SAME = 1
DIFFERENT = 0

# The closed sets of choices, each a type and its values (checked on entry: ``validate``).
Dataset = Literal["auto", "mnist", "mnist-5k", "fashion-mnist"]
Branch = Literal["mlp", "cnn", "tiny-cnn", "matchnet"]
Head = Literal["distance", "matchnet"]
Distance = Literal["euclidean", "cosine"]
Optimizer = Literal["rmsprop", "adam", "sgd"]
PairProtocol = Literal["balanced", "keras-example"]
DATASETS: tuple[Dataset, ...] = get_args(Dataset)
BRANCHES: tuple[Branch, ...] = get_args(Branch)
HEADS: tuple[Head, ...] = get_args(Head)
DISTANCES: tuple[Distance, ...] = get_args(Distance)
OPTIMIZERS: tuple[Optimizer, ...] = get_args(Optimizer)
PAIR_PROTOCOLS: tuple[PairProtocol, ...] = get_args(PairProtocol)


# Which images are train, validation and test: one split for every run, whatever its seed. So a
# class's runs are tested on the same digits (the board compares like with like), and the web
# server keeps one copy of a data set for the whole class: with the split following each student's
# seed it kept one per student (about 55 MB each on full MNIST, 1.6 GB for 30 students).
SPLIT_SEED = 0


@dataclass(frozen=True)
class SiameseConfig:
    """Everything needed to build and train one Siamese network."""

    dataset: Dataset = "auto"  # full MNIST when it can be had, else the embedded 5,000 digits
    branch: Branch = "mlp"  # the feature extractor; the Keras example's MLP is the smallest that works
    head: Head = "distance"  # Euclidean distance + contrastive loss, as in the Keras example
    distance: Distance = "euclidean"  # cosine is offered to show a bounded alternative
    shared: bool = True  # the whole point of a Siamese network; False shows the cost
    embedding_dim: int = 128  # the Keras example's last Dense layer
    margin: float = 1.0  # the Keras example's margin; distances of different digits pushed past it
    optimizer: Optimizer = "rmsprop"  # the Keras example's optimizer
    learning_rate: float = 1e-3  # Keras's RMSprop default, as the example used
    batch_size: int = 128  # the Keras example
    epochs: int = 20  # the Keras example
    pairs_per_epoch: int = 0  # 0: as many as the protocol gives (2 per image, balanced)
    pair_protocol: PairProtocol = "balanced"  # "keras-example" reproduces the Keras example's create_pairs
    resample_pairs: bool = True  # a fresh pair sample each epoch sees more combinations
    held_out_classes: tuple[int, ...] = ()  # classes never trained on, for generalisation
    # Makes pairs, their order and initial weights reproducible (not the split: SPLIT_SEED). The
    # Train page starts each student from their own seed (siamese_ui.train_form.student_seed), so
    # a class's runs of one preset differ as separate experiments do; 0 is what the command line
    # and the benchmarks use.
    seed: int = 0
    calibrate_threshold: bool = True  # pick the threshold on validation pairs, not 0.5
    steps_per_execution: int = 1  # >1 is faster but coarsens pause/step/stop to that many
    jit_compile: bool = False  # XLA; off in every preset (not benchmarked, see BENCHMARKS.md)
    # Training images kept aside (stratified) to calibrate the threshold and report validation
    # figures; 0 trains on the whole training split and validates on the test split, exactly as
    # the Keras example does (only sound with a fixed threshold: nothing is tuned on test).
    val_size: int = 5000

    def __post_init__(self) -> None:
        # Widgets and JSON hand over ints where floats are meant (a learning rate of 10);
        # Keras optimizers refuse an int learning rate, so normalise the types here, once.
        for name in ("margin", "learning_rate"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "held_out_classes", tuple(int(k) for k in self.held_out_classes))
        problems = validate(self)
        if problems:
            raise ValueError(" ".join(problems))

    def replace(self, **changes: Any) -> SiameseConfig:
        return dataclasses.replace(self, **changes)

    # ---- text round trip (command line ``--set``, benchmarks) -------------------------------
    def to_query(self, base: SiameseConfig | None = None) -> dict[str, str]:
        """The fields that differ from ``base`` (default: ``SiameseConfig()``), as strings.

        Read it back with :meth:`from_query` on the *same* base: a text written against one
        base and read on top of another describes another experiment.
        """
        out = {}
        base = base or SiameseConfig()
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value != getattr(base, f.name):
                out[f.name] = _to_text(value)
        return out

    @classmethod
    def from_query(
        cls, params: dict[str, str], base: SiameseConfig | None = None
    ) -> tuple[SiameseConfig, list[str]]:
        """Parse ``field=value`` texts on top of ``base`` (default: ``SiameseConfig()``).
        Unknown keys are skipped; bad values are ignored with a note."""
        config = base or cls()
        notes: list[str] = []
        names = {f.name: f for f in dataclasses.fields(cls)}
        values, texts = {}, {}
        for key, raw in params.items():
            if key not in names:
                continue  # other keys may share the text
            texts[key] = text = str(raw[-1] if isinstance(raw, list) else raw)
            try:
                values[key] = _from_text(getattr(config, key), text)
            except (ValueError, TypeError) as exc:
                notes.append(f"ignored {key}={text!r}: {exc}")
        try:  # all at once: fields that are only valid together (val_size 0, fixed threshold)
            return config.replace(**values), notes
        except ValueError:
            pass
        for key, value in values.items():  # else one by one, keeping what is valid
            try:
                config = config.replace(**{key: value})
            except ValueError as exc:
                notes.append(f"ignored {key}={texts[key]!r}: {exc}")
        return config, notes


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _from_text(current: Any, text: str) -> Any:
    if isinstance(current, bool):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError("expected 0 or 1")
    if isinstance(current, int):
        return int(text)
    if isinstance(current, float):
        return float(text)
    if isinstance(current, tuple):
        return tuple(sorted({int(t) for t in text.split(",") if t.strip()}))
    return text


LABELS = {  # what a student reads for each field (the Train form's labels; shown through _())
    "dataset": N_("Data set"), "branch": N_("Branch"), "head": N_("Head"), "distance": N_("Distance"),
    "shared": N_("Shared weights"), "embedding_dim": N_("Embedding size"), "margin": N_("Margin"),
    "optimizer": N_("Optimizer"), "learning_rate": N_("Learning rate"), "batch_size": N_("Batch size"),
    "epochs": N_("Epochs"), "pairs_per_epoch": N_("Pairs per epoch"), "pair_protocol": N_("Pair protocol"),
    "resample_pairs": N_("Fresh pairs every epoch"), "held_out_classes": N_("Held-out digits"),
    "seed": N_("Seed"), "calibrate_threshold": N_("Calibrate the threshold"),
    "steps_per_execution": N_("Batches per graph call"), "jit_compile": N_("XLA compilation"),
    "val_size": N_("Validation images"),
}  # fmt: skip

MAX_HELD_OUT = 8  # pairs need at least two classes left to train on
MAX_SEED = 2**31 - 1  # the largest seed NumPy and TensorFlow both take as it is


def validate(c: SiameseConfig) -> list[str]:
    """Every reason the configuration cannot be trained, as sentences a student can act on, in the
    caller's language (a page builds its configuration in its own script run)."""
    p = []
    for name, allowed in (
        ("dataset", DATASETS),
        ("branch", BRANCHES),
        ("head", HEADS),
        ("distance", DISTANCES),
        ("optimizer", OPTIMIZERS),
        ("pair_protocol", PAIR_PROTOCOLS),
    ):
        if getattr(c, name) not in allowed:
            p.append(
                _("{field} must be one of {choices}.").format(
                    field=_(LABELS[name]), choices=", ".join(allowed)
                )
            )
    for name, low, high in (
        ("embedding_dim", 2, 1024), ("batch_size", 2, 4096), ("epochs", 1, 500),
        ("pairs_per_epoch", 0, 2_000_000), ("steps_per_execution", 1, 1000), ("val_size", 0, 20_000),
        ("seed", 0, MAX_SEED),
    ):  # fmt: skip
        if not low <= getattr(c, name) <= high:
            p.append(
                _("{field} must be between {low:,} and {high:,}.").format(
                    field=_(LABELS[name]), low=low, high=high
                )
            )
    for name in ("margin", "learning_rate"):
        if not 0 < getattr(c, name) <= 100:
            p.append(_("{field} must be above 0 and at most 100.").format(field=_(LABELS[name])))
    if any(not 0 <= k <= 9 for k in c.held_out_classes):
        p.append(_("Held-out digits must be digits from 0 to 9."))
    elif len(c.held_out_classes) > MAX_HELD_OUT:
        p.append(
            _(
                "Held-out digits: at most {most} of the 10 digits, so that at least two "
                "remain to make same and different pairs from."
            ).format(most=MAX_HELD_OUT)
        )
    if c.val_size == 0 and c.calibrate_threshold:
        p.append(
            _(
                "Validation images 0 validates on the test digits; calibrating the threshold there "
                "would tune it on the test set. Keep some validation images or use a fixed threshold."
            )
        )
    return p


FAST_MLP = SiameseConfig(  # the "fast-mlp" preset, also the classroom preset's base (see below)
    distance="cosine",
    margin=0.5,
    optimizer="adam",
    learning_rate=3e-3,
    batch_size=256,
    epochs=14,
    pairs_per_epoch=27_000,
    steps_per_execution=8,
)

PRESETS: dict[str, SiameseConfig] = {
    # The Keras mnist_siamese example exactly: MLP, Euclidean distance, contrastive
    # loss (margin 1), RMSprop, batch 128, 20 epochs, its alternating pairs built once from all
    # 60,000 training digits, validated on the test digits' pairs, a fixed threshold of 0.5.
    "keras-example": SiameseConfig(
        pair_protocol="keras-example", resample_pairs=False, calibrate_threshold=False, val_size=0
    ),
    # The fastest setup measured to reach the example's 97.2% (see BENCHMARKS.md): the same
    # MLP branch and contrastive loss, but cosine distance (margin 0.5 of its 0..2 range) and
    # Adam at 3e-3, a batch of 256, short epochs of fresh balanced pairs (so the threshold is
    # re-calibrated often), 8 batches per graph call. It passes 97.2% at epoch 4 or 5 over
    # seeds 0-2 and ends near 98%; with Euclidean distance and RMSprop it needed epoch 9-13.
    "fast-mlp": FAST_MLP,
    # A small CNN that passes 99% test pair accuracy on full MNIST in about a minute and a
    # half of training on 2 CPU cores (see BENCHMARKS.md).
    "cnn": SiameseConfig(
        branch="cnn",
        embedding_dim=64,
        optimizer="adam",
        epochs=8,
        batch_size=128,
        pairs_per_epoch=40_000,
        steps_per_execution=8,
    ),
    # MatchNet (the weight-sharing post): feature network and its decision network (cross-entropy).
    "matchnet": SiameseConfig(
        branch="matchnet",
        head="matchnet",
        embedding_dim=512,
        optimizer="adam",
        learning_rate=1e-4,
        batch_size=64,
        epochs=3,
        pairs_per_epoch=20_000,  # its 3.5 M parameters make a full epoch slow on a laptop
    ),
    # What a whole class can afford, and the Train page's default (DEFAULT_PRESET): a CNN of two
    # strided convolutions with fast-mlp's loss and optimiser, 50,000 pairs in all. About 4 s of
    # training on one core, 98% test pair accuracy on full MNIST and 96-98% on the embedded 5,000
    # digits (benchmarks/bench_classroom.py --preset-only; BENCHMARKS.md). A margin of 0.7 (of the
    # cosine distance's 0..2) with 10,000 pairs an epoch reached the accuracy that 0.5 reached with
    # 12,000 (5 seeds), in 13% less training, for a class of 30 on two cores (issue 26;
    # benchmarks/bench_preset_variants.py).
    "classroom": FAST_MLP.replace(
        branch="tiny-cnn", embedding_dim=32, margin=0.7, batch_size=128, epochs=5, pairs_per_epoch=10_000
    ),
    # Never-seen digits: train on 0-7, then ask about 8 and 9.
    "held-out-8-9": SiameseConfig(
        branch="cnn",
        embedding_dim=32,
        optimizer="adam",
        epochs=5,
        pairs_per_epoch=20000,
        held_out_classes=(8, 9),
    ),
    # Two-dimensional embeddings: the scatter plot needs no projection at all.
    "2d-embedding": SiameseConfig(
        branch="cnn", embedding_dim=2, optimizer="adam", epochs=6, pairs_per_epoch=20000
    ),
}

DEFAULT_PRESET = "classroom"  # what the Train page opens on

# What the source example (the Keras example, Keras's mnist_siamese.py) says of itself, quoted: shown beside
# a student's run of its protocol, so the two can be compared. Not a measurement of this app.
SOURCE_RESULT = {
    "quote": N_("Gets to 97.2% test accuracy after 20 epochs."),  # shown through _()
    "accuracy": 0.972,
    "epochs": 20,
    "last_log": "val_loss: 0.0233 - val_accuracy: 0.9722",  # its printed 20th epoch
}

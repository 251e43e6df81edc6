"""Metrics of a Siamese model, as NumPy functions of scores and labels.

A *score* is a dissimilarity: small means "same class". For a distance head it is the
distance; for the matchnet head it is ``1 - p(same)``. A pair is called "same" when
``score < threshold``.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from siamese_core.config import SAME
from siamese_core.results import PretrainedFigures


# ---- pair metrics --------------------------------------------------------------------------
def accuracy_at(scores: np.ndarray, same: np.ndarray, threshold: float) -> float:
    scores, same = np.ravel(scores), np.ravel(same) == SAME
    return float(np.mean((scores < threshold) == same))


def best_threshold(scores: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """The threshold that maximises accuracy on these pairs, and that accuracy.

    Every distinct midpoint between sorted scores is a candidate, evaluated in O(n log n)
    with cumulative counts; ties go to the threshold nearest the middle of the best run.
    """
    s = np.ravel(scores).astype(np.float64)
    y = np.ravel(same) == SAME
    order = np.argsort(s, kind="stable")
    s, y = s[order], y[order]
    n = len(s)
    if n == 0:
        raise ValueError("no pairs to calibrate on")
    # cut k: the k smallest scores are called "same". correct = positives below + negatives above
    pos_below = np.r_[0, np.cumsum(y)]
    neg_above = (~y).sum() - np.r_[0, np.cumsum(~y)]
    correct = pos_below + neg_above
    valid = np.r_[True, s[1:] > s[:-1], True]  # a cut between equal scores is impossible
    correct = np.where(valid, correct, -1)
    best = correct.max()
    ks = np.flatnonzero(correct == best)
    k = ks[len(ks) // 2]
    if k == 0:
        t = s[0] - 1e-6
    elif k == n:
        t = s[-1] + 1e-6
    else:
        t = (s[k - 1] + s[k]) / 2
    return float(t), float(best / n)


def confusion(scores, same, threshold) -> np.ndarray:
    """[[TN, FP], [FN, TP]] with "positive" = same class (rows: truth, columns: prediction)."""
    pred = np.ravel(scores) < threshold
    truth = np.ravel(same) == SAME
    return np.array(
        [[np.sum(~truth & ~pred), np.sum(~truth & pred)], [np.sum(truth & ~pred), np.sum(truth & pred)]]
    )


def precision_recall(scores, same, threshold) -> tuple[float | None, float | None]:
    """Precision TP / (TP + FP) and recall TP / (TP + FN) of the "same" verdict; ``None`` where
    the denominator is 0 (nothing called same, or no same pair): 0 / 0 has no value, and showing
    0% would claim every "same" verdict was wrong."""
    (_, fp), (fn, tp) = confusion(scores, same, threshold)
    precision = float(tp / (tp + fp)) if tp + fp else None
    recall = float(tp / (tp + fn)) if tp + fn else None
    return precision, recall


def roc_curve(scores, same) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(false positive rate, true positive rate, thresholds, AUC); "positive" = same class,
    predicted when ``score <= threshold``. The AUC is nan when only one class is present.

    NumPy only, to keep scikit-learn (~60 MB) out of a training process; it returns the same
    points as ``sklearn.metrics.roc_curve`` (collinear points dropped; checked in the tests).
    """
    s = np.ravel(scores).astype(np.float64)
    truth = np.ravel(same) == SAME
    order = np.argsort(s, kind="stable")  # most "same" (lowest score) first
    s, truth = s[order], truth[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1] if s.size else np.zeros(0, int)
    tps, fps, thr = np.cumsum(truth)[last], np.cumsum(~truth)[last], s[last]
    if tps.size > 2:  # drop the points that lie on a straight line between their neighbours
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        tps, fps, thr = tps[keep], fps[keep], thr[keep]
    tps, fps, thr = np.r_[0, tps], np.r_[0, fps], np.r_[-np.inf, thr]
    positives, negatives = (tps[-1], fps[-1])
    tpr = tps / positives if positives else np.full(tps.shape, np.nan)
    fpr = fps / negatives if negatives else np.full(fps.shape, np.nan)
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)) if positives and negatives else float("nan")
    return fpr, tpr, thr, auc


# ---- retrieval -----------------------------------------------------------------------------
def pairwise_distances(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    b = a if b is None else b
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


@dataclass(frozen=True)
class Retrieval:
    precision_at_1: float  # how often a point's nearest other point has its class
    map_at_r: float | None  # None when no class has two members: no query has anything to find


def retrieval_metrics(embeddings: np.ndarray, labels: np.ndarray) -> Retrieval:
    """precision@1 and MAP@R (Musgrave et al. 2020) with each point querying all others.

    MAP@R: for a query with R other members of its class, look at its R nearest neighbours;
    average, over the positions k <= R that hold a same-class neighbour, precision@k; divide
    by R. 1.0 means every class is a tight cluster ranked ahead of all others.
    """
    d = pairwise_distances(embeddings.astype(np.float32))
    np.fill_diagonal(d, np.inf)
    labels = np.asarray(labels)
    order = np.argsort(d, axis=1, kind="stable").astype(np.int32)
    del d  # n x n matrices are the peak of an evaluation: keep one at a time
    hits = labels[order] == labels[:, None]
    p_at_1 = float(hits[:, 0].mean())
    r = np.array([(labels == c).sum() - 1 for c in labels])
    aps = []
    for q in range(len(labels)):
        if r[q] == 0:
            continue
        h = hits[q, : r[q]]
        prec = np.cumsum(h) / np.arange(1, r[q] + 1)
        aps.append(float((prec * h).sum() / r[q]))
    return Retrieval(precision_at_1=p_at_1, map_at_r=float(np.mean(aps)) if aps else None)


def one_shot_trials(
    labels: np.ndarray,
    n_way: int = 5,
    trials: int = 500,
    seed: int = 0,
    classes: tuple[int, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """N-way one-shot trials: per trial a query, one support example from each of N classes
    (one of them the query's) and the place of the true support among them.

    Returns (queries (trials,), supports (trials, n), truth (trials,)) as indices into ``labels``.
    The true support sits at a random place, so a model that scores every pair alike gets
    chance (1/n), not a perfect score from ties.
    """
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    pool = np.array(sorted(set(labels.tolist()) if classes is None else classes))
    pool = np.array([c for c in pool if (labels == c).sum() >= 2])
    n_way = min(n_way, len(pool))
    if n_way < 2:
        raise ValueError("one-shot needs at least two classes with two examples each")
    by_class = {c: np.flatnonzero(labels == c) for c in pool}
    queries, supports, truth = [], [], []
    for _ in range(trials):
        chosen = rng.choice(pool, n_way, replace=False)
        query, first = rng.choice(by_class[chosen[0]], 2, replace=False)
        others = [int(rng.choice(by_class[c])) for c in chosen[1:]]
        place = int(rng.integers(n_way))
        queries.append(query)
        supports.append(others[:place] + [first] + others[place:])
        truth.append(place)
    return np.array(queries), np.array(supports), np.array(truth)


def one_shot_accuracy(
    embeddings: np.ndarray,
    labels: np.ndarray,
    n_way: int = 5,
    trials: int = 500,
    seed: int = 0,
    classes: tuple[int, ...] | None = None,
) -> float:
    """N-way one-shot accuracy in an embedding: right when the nearest support (Euclidean) is
    the query's class (see :func:`one_shot_trials`)."""
    queries, supports, truth = one_shot_trials(labels, n_way, trials, seed, classes)
    distances = np.linalg.norm(embeddings[supports] - embeddings[queries][:, None, :], axis=2)
    return float(np.mean(np.argmin(distances, axis=1) == truth))


# ---- running a model -------------------------------------------------------------------------
_FORWARD: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# A cache, like _FORWARD (the one kind of module-level state kept): one traced inference per architecture
_SHARED: OrderedDict[str, _SharedForward] = OrderedDict()
_SHARED_KEPT = 32  # architectures (least recently new out; their models keep their function)
_SHARED_LOCK = threading.Lock()


def forward(model):
    """A compiled inference call of ``model`` (cached per model).

    Models of one architecture share one traced function, which takes the model's variables as
    arguments (Keras's ``stateless_call``): a model the service has just loaded (a student's
    new training, on the process answering their Compare) runs at once, where tracing a
    function of its own cost ~65-85 ms of CPU per model and input shape (BENCHMARKS.md,
    "One trace per architecture"). A model with a layer outside the app's own kinds, whose
    architecture cannot be told from its config, that runs under a ``tf.distribute`` strategy,
    or whose trace kept a variable of its own gets a function of its own.

    Not ``predict_on_batch``: under a ``tf.distribute`` strategy that one hands the whole
    batch to every replica and returns the copies concatenated.
    """
    fn = _FORWARD.get(model)
    if fn is None:
        # through a weak reference: a function holding the model itself would keep the
        # WeakKeyDictionary's key alive, and every trained model would leak (~16 MB each)
        ref = weakref.ref(model)
        shared = _shared_forward(model)
        own = []

        def fn(inputs):
            if shared is not None and not shared.refused:
                return shared(ref(), inputs)
            if not own:
                own.append(_own_forward(ref))
            return own[0](inputs)

        _FORWARD[model] = fn
    return fn


def _own_forward(ref):
    import tensorflow as tf

    return tf.function(lambda inputs: ref()(inputs, training=False), reduce_retracing=True)


class _SharedForward:
    """``model(inputs, training=False)`` for every model of one architecture, traced once: the
    variables are arguments, so another model of that architecture reuses the trace (a
    variable's shape and dtype are its signature). ``stateless_call`` reads only the values
    passed. Each thread traces with its own model (the template is thread-local: the training's
    validation and the pages' calls run side by side in a model process). A trace that captured
    a variable anyway is refused, and its models get functions of their own; state that is no
    variable (an adapted layer's tensors) is why only :data:`_SHAREABLE` layers are shared."""

    def __init__(self):
        import tensorflow as tf

        self._local = threading.local()  # .template: the model this thread is running, during the call
        self._fn = tf.function(self._run, reduce_retracing=True)
        self.refused = False

    def _run(self, trainable, non_trainable, inputs):
        return self._local.template.stateless_call(trainable, non_trainable, inputs, training=False)[0]

    def __call__(self, model, inputs):
        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]
        self._local.template = model
        try:
            traces = self._fn.experimental_get_tracing_count()
            out = self._fn(trainable, non_trainable, inputs)
            if self._fn.experimental_get_tracing_count() != traces:  # traced now: check what it kept
                import tensorflow as tf

                concrete = self._fn.get_concrete_function(trainable, non_trainable, inputs)
                if any(t.dtype == tf.resource for t in concrete.captured_inputs):
                    self.refused = True  # right for this model (traced with it), not for others
        finally:
            self._local.template = None  # no model kept alive by the cache
        return out


def _shareable_layers() -> frozenset:
    from siamese_core.network._keras import keras
    from siamese_core.network.models import CosineDistance, EuclideanDistance

    layers = keras.layers
    return frozenset(
        {
            layers.InputLayer,
            layers.Rescaling,
            layers.Reshape,
            layers.Flatten,
            layers.Conv2D,
            layers.MaxPooling2D,
            layers.Dense,
            layers.Dropout,
            layers.Concatenate,
            EuclideanDistance,
            CosineDistance,
        }
    )


def _only_shareable(model, shareable: frozenset) -> bool:
    """Whether ``model`` is a plain functional model (Keras's own class) of shareable layers and
    functional sub-models (a Siamese model's branches)."""
    from siamese_core.network._keras import keras

    kind = type(model)
    if not (kind is keras.Model or (kind.__name__ == "Functional" and kind.__module__.startswith("keras."))):
        return False
    return all(
        _only_shareable(layer, shareable) if isinstance(layer, keras.Model) else type(layer) in shareable
        for layer in model.layers
    )


def _architecture(model) -> str | None:
    """A key equal for two models exactly when one's graph runs the other's variables: the
    class and the whole config (layers, their sizes and names, the input dtypes). None (a
    function of its own) for a model with a layer of any other kind, whose state may lie outside
    its variables and its config (an adapted ``Normalization``'s statistics, say: a student may
    upload any Siamese ``.keras`` file), or with a config that is not plain JSON."""
    import json

    if not _only_shareable(model, _shareable_layers()):
        return None
    try:
        config = json.dumps(model.get_config(), sort_keys=True)
    except Exception:  # a model that cannot describe itself in plain JSON: its own function
        return None
    return f"{type(model).__module__}.{type(model).__qualname__}:{config}"


def _shared_forward(model) -> _SharedForward | None:
    import tensorflow as tf

    if tf.distribute.has_strategy() or any(
        isinstance(v.value, tf.distribute.DistributedValues) for v in model.variables
    ):
        return None
    key = _architecture(model)
    if key is None:
        return None
    with _SHARED_LOCK:
        shared = _SHARED.get(key)
        if shared is None:
            shared = _SHARED[key] = _SharedForward()
            while len(_SHARED) > _SHARED_KEPT:
                _SHARED.popitem(last=False)
        _SHARED.move_to_end(key)
    return shared


def dissimilarity(model, output: np.ndarray) -> np.ndarray:
    """The model's outputs for n pairs as dissimilarity scores, shape (n,): the distance for
    a distance head, ``1 - p(same)`` for the matchnet head. "Same" is a score below the
    threshold, whichever head."""
    from siamese_core.network.models import head_kind

    output = np.asarray(output)
    if head_kind(model) == "matchnet":
        return 1.0 - output[:, SAME]
    return output[:, 0]


def pair_scores(model, x: np.ndarray, i: np.ndarray, j: np.ndarray, batch_size: int = 256):
    """Dissimilarity scores of pairs (x[i], x[j]), shape (n,).

    A distance head's pairs reuse their digits (a validation or test set's 2n pairs of n digits):
    each digit goes through a branch once (once for both sides where the weights are shared, once
    per side otherwise), not once per pair it is in, and the model's own distance layer compares
    the embeddings: the same numbers as running every pair through the whole model
    (``tests/network/test_evaluation.py``). The matchnet head runs every pair."""
    from siamese_core.network.models import branches_of, head_kind

    i, j = np.asarray(i), np.asarray(j)
    emb_a = None
    if head_kind(model) == "distance" and len(i) and any(layer.name == "distance" for layer in model.layers):
        branches = branches_of(model)
        if branches[0] is branches[-1]:  # shared weights: each digit is embedded once for both sides
            used, back = np.unique(np.concatenate([i, j]), return_inverse=True)
            if len(used) < 2 * len(i):
                emb = _embed_with(branches[0], x[used], 2 * batch_size)
                emb_a, emb_b = emb[back.ravel()[: len(i)]], emb[back.ravel()[len(i) :]]
        else:
            used_i, back_i = np.unique(i, return_inverse=True)
            used_j, back_j = np.unique(j, return_inverse=True)
            if len(used_i) + len(used_j) < 2 * len(i):
                emb_a = _embed_with(branches[0], x[used_i], 2 * batch_size)[back_i.ravel()]
                emb_b = _embed_with(branches[-1], x[used_j], 2 * batch_size)[back_j.ravel()]
        if emb_a is not None:
            distance = model.get_layer("distance")
            return np.asarray(distance([emb_a, emb_b]))[:, 0]
    out = []
    run = forward(model)
    for s in range(0, len(i), batch_size):
        a, b = x[i[s : s + batch_size]], x[j[s : s + batch_size]]
        out.append(np.asarray(run([a, b])))
    if not out:
        return np.zeros(0)
    return dissimilarity(model, np.concatenate(out))


def _embed_with(branch, x: np.ndarray, batch_size: int) -> np.ndarray:
    run = forward(branch)
    out = [np.asarray(run(x[s : s + batch_size])) for s in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, branch.output.shape[-1]), np.float32)


def embed(model, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    from siamese_core.network.models import embedding_model

    return _embed_with(embedding_model(model), x, batch_size)


@dataclass(frozen=True)
class Report:
    """Everything the Evaluate page shows, computed once."""

    scores: np.ndarray
    same: np.ndarray
    i: np.ndarray
    j: np.ndarray
    threshold: float
    accuracy: float
    auc: float
    precision_at_1: float
    map_at_r: float | None  # None when no class in the sample has two members (see Retrieval)
    one_shot: float | None  # on held-out classes, when there are any
    one_shot_way: int | None = None  # n of that n-way test: 5, or fewer when fewer classes are held out

    def as_dict(self) -> dict:
        return {
            "test_pair_accuracy": self.accuracy,
            "threshold": self.threshold,
            "auc": self.auc,
            "precision_at_1": self.precision_at_1,
            "map_at_r": self.map_at_r,
            "one_shot_accuracy_held_out": self.one_shot,
            "one_shot_way": self.one_shot_way,
            "test_pairs": int(len(self.scores)),
        }


def evaluate(
    model, dataset, threshold: float, protocol: str = "balanced", seed: int = 0, max_retrieval: int = 1000
) -> Report:
    """Test-set report: pair accuracy at ``threshold``, AUC, retrieval, one-shot."""
    from siamese_core.network.data import pairs_for

    rng = np.random.default_rng(seed + 1)
    test = dataset.test
    pairs = pairs_for(protocol, test.y, 2 * len(test.y), rng)
    scores = pair_scores(model, test.x, pairs.i, pairs.j)
    same = pairs.label[:, 0]
    _, _, _, auc = roc_curve(scores, same)
    sub = rng.permutation(len(test.y))[:max_retrieval]
    emb = comparable_embeddings(model, embed(model, test.x[sub]))
    retrieval = retrieval_metrics(emb, test.y[sub])
    one_shot = way = None
    if dataset.held_out_classes:
        held = np.isin(test.y[sub], dataset.held_out_classes)
        way = min(5, len(set(test.y[sub][held].tolist())))
        if way >= 2:
            one_shot = one_shot_accuracy(emb[held], test.y[sub][held], n_way=way, seed=seed)
        else:
            way = None
    return Report(
        scores=scores,
        same=same,
        i=pairs.i,
        j=pairs.j,
        threshold=float(threshold),
        accuracy=accuracy_at(scores, same, threshold),
        auc=auc,
        one_shot=one_shot,
        one_shot_way=way,
        precision_at_1=retrieval.precision_at_1,
        map_at_r=retrieval.map_at_r,
    )


def comparable_embeddings(model, embeddings: np.ndarray) -> np.ndarray:
    """Embeddings whose Euclidean distances rank pairs as the model's own distance does: a
    cosine model's are scaled to unit length (then |a - b|^2 = 2 - 2 cos), others are as
    they are. Retrieval and one-shot figures then agree with the model's verdicts."""
    from siamese_core.network.models import embedding_metric

    return comparable(embedding_metric(model), embeddings)


def comparable(metric: str, embeddings: np.ndarray) -> np.ndarray:
    """:func:`comparable_embeddings` for a model whose metric is known (a page's ``ModelFacts``)."""
    if metric != "cosine":
        return embeddings
    return embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)


def pretrained_figures(report, data, n_points: int = 1000) -> PretrainedFigures:
    """What the pages show of the pretrained default model on ``data``, as one worker task: the
    test report (Evaluate) and the embeddings of the Embeddings page's default sample."""
    from siamese_core.network.data import display_sample
    from siamese_core.network.persistence import load_default

    model, meta = load_default()
    report(0.0, "test pairs")
    test_report = evaluate(model, data, float(meta.get("threshold", 0.5)))
    report(0.8, "embeddings")
    chosen = display_sample(len(data.test.y), min(n_points, len(data.test.y)))
    return PretrainedFigures(report=test_report, sample_embeddings=embed(model, data.test.x[chosen]))

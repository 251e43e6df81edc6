"""Results that are the same for every student, computed once per server and shared read-only:
the Weight-sharing lab's numbers for a configuration, the N-input counts, and everything the
pages compute for the pretrained model (its test report, its embeddings). Thirty students opening
Evaluate at once then cost one evaluation, not thirty.

A warm-up thread, started by the first visit (``app.py``), computes the pages' defaults while that
student reads Home, so that no page's first visit waits for them.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import streamlit as st

from siamese_core.results import LabNumbers, PretrainedFigures
from siamese_core.tasks import ModelCall

log = logging.getLogger(__name__)


def server_call(call: ModelCall, **kwargs) -> Any:
    """A figure the same for every student, asked of the model service by the server itself (in
    a script run or in the warm-up's thread): no session owns it, and a failure is the caller's."""
    from .resources import worker_pool

    return worker_pool().call(call.value, kwargs, owner="server")


class SharedResults:
    """A bounded, thread-safe memo: ``get(key, compute)`` computes each key once (others asking
    for the same key meanwhile wait for that one computation), then hands out the same
    read-only value. The least recently used goes first beyond ``max_entries``."""

    def __init__(self, max_entries: int = 256):
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._values: OrderedDict[Any, Any] = OrderedDict()
        self._pending: dict[Any, threading.Lock] = {}
        self.computed = 0  # how many computations ran (tests count them)

    def get(self, key, compute: Callable[[], Any]) -> Any:
        while True:
            with self._lock:
                if key in self._values:
                    self._values.move_to_end(key)
                    return self._values[key]
                pending = self._pending.get(key)
                if pending is None:
                    pending = self._pending[key] = threading.Lock()
                    pending.acquire()
                    mine = True
                else:
                    mine = False
            if not mine:
                with pending:  # wait for whoever computes it, then read it
                    pass
                continue
            try:
                value = compute()
                with self._lock:
                    self._values[key] = value
                    self.computed += 1
                    while len(self._values) > self.max_entries:
                        self._values.popitem(last=False)
                return value
            finally:
                with self._lock:
                    self._pending.pop(key, None)
                pending.release()

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._values

    def peek(self, key) -> Any:
        with self._lock:
            return self._values[key]  # KeyError when not computed


class ModelResults:
    """The dict-like per-model cache the pages use (``key in cache``, ``cache[key]``,
    ``cache[key] = value``), backed by :class:`SharedResults` under one prefix: the pretrained
    model's results, shared by every session."""

    def __init__(self, shared: SharedResults, prefix: str):
        self.shared, self.prefix = shared, prefix

    def __contains__(self, key) -> bool:
        return (self.prefix, key) in self.shared

    def __getitem__(self, key):
        return self.shared.peek((self.prefix, key))

    def __setitem__(self, key, value) -> None:
        self.shared.get((self.prefix, key), lambda: value)

    def setdefault(self, key, value):
        return self.shared.get((self.prefix, key), lambda: value)

    def get_or_compute(self, key, compute: Callable[[], Any]):
        return self.shared.get((self.prefix, key), compute)


PRETRAINED_HANDLE = (
    "pretrained"  # the pretrained model, shared by every session: its handle and results' prefix
)


@st.cache_resource
def shared_results() -> SharedResults:
    return SharedResults()


# ---- what the Weight-sharing lab shows, per configuration ----------------------------------------------
def lab_numbers(config) -> LabNumbers:
    """Everything the lab shows about one configuration (siamese_core.network.inspect), computed
    once per server. Numbers only: the words (the architecture's labels and sentences) are
    written at display time, in each reader's language, from :func:`lab_graph`."""
    shared = shared_results()

    def compute() -> LabNumbers:
        from siamese_core.network import shipped

        # the lab's default configuration is shipped (no wait for the model service's start)
        numbers, graph = shipped.load_lab(config) or server_call(ModelCall.LAB, config=config)
        shared.get(("lab graph", config), lambda: graph)  # the same build's graph, for lab_graph
        return numbers

    return shared.get(("lab", config), compute)


def lab_graph(config) -> tuple:
    """The architecture of one configuration as data (``inspect.GraphOp``s), computed once per
    server with its numbers; ``inspect.graph_dot`` and ``graph_in_words`` write it in words."""
    shared = shared_results()
    lab_numbers(config)

    def rebuild() -> tuple:  # only when it was pushed out of the memo since
        from siamese_core.network import shipped

        return (shipped.load_lab(config) or server_call(ModelCall.LAB, config=config))[1]

    return shared.get(("lab graph", config), rebuild)


# ---- the warm-up: the pages' defaults, computed before anyone asks ----------------------------------------
DEFAULT_LAB = dict(branch="mlp", head="distance", embedding_dim=128)  # the lab's widgets' defaults
DEFAULT_POINTS = 1000  # the Embeddings page's default


def warm_up_steps() -> list[tuple[str, Callable[[], Any]]]:
    from siamese_core.config import SiameseConfig

    from . import resources

    def imports():  # (pandas and plotly are imported by app.py, in the script thread)
        import sklearn.decomposition  # noqa: F401

    def pretrained():
        """The pretrained model's report and default embeddings: shipped with the app for the data
        sets it knows (no wait for the model service), else computed by the service."""
        from siamese_core.network import shipped
        from siamese_core.network.persistence import DEFAULT_MODEL, config_from_meta, read_meta
        from siamese_core.serving.protocol import DatasetRef

        config = config_from_meta(read_meta(DEFAULT_MODEL))
        held_out = tuple(config.held_out_classes) if config else ()
        name = resources.resolved_dataset_name()[0]
        data = resources.dataset(name, 0, held_out)
        n = min(DEFAULT_POINTS, len(data.test.y))
        shared = shared_results()

        def compute() -> PretrainedFigures:
            kwargs = {"data": DatasetRef(name, 0, held_out), "n_points": n}
            return shipped.load(name, held_out, n) or server_call(ModelCall.PRETRAINED_FIGURES, **kwargs)

        def figures() -> PretrainedFigures:
            return shared.get(("pretrained-figures",), compute)

        cache = ModelResults(shared, PRETRAINED_HANDLE)
        cache.get_or_compute("report", lambda: figures().report)
        cache.get_or_compute(("emb", n), lambda: figures().sample_embeddings)

    # What needs no model service first (a fresh server's first pages need them at once), then the
    # service's start.
    steps = [("pretrained model", pretrained)]
    for shared in (True, False):  # the lab's default configuration: shipped, so before the service
        config = SiameseConfig(shared=shared, **DEFAULT_LAB)
        steps.append((f"lab {shared}", lambda config=config: lab_numbers(config)))
    steps.append(("imports", imports))  # ~1 s of the interpreter: after what the first pages show
    steps.append(("device", resources.device))

    def loss_panel():  # the Train page's loss panel for its default preset (shipped: siamese_ui/loss_view.py)
        from siamese_core.config import DEFAULT_PRESET, PRESETS

        from .loss_view import loss_curves

        margin = PRESETS[DEFAULT_PRESET].margin
        loss_curves(margin, 2.0 if PRESETS[DEFAULT_PRESET].distance == "cosine" else None)

    steps.append(("loss panel", loss_panel))
    return steps


# ---- the warm-up --------------------------------------------------------------------------------------------------
def _warm(shared: SharedResults, steps: list[tuple[str, Callable[[], Any]]]) -> None:
    for name, step in steps:
        try:
            step()
        except Exception:  # a warm-up only saves time: the page computes it itself if this fails
            log.warning("warm-up step %s failed", name, exc_info=True)


@st.cache_resource
def warm_up_once() -> threading.Thread:
    """Start the warm-up thread, once per server."""
    thread = threading.Thread(
        target=_warm, args=(shared_results(), warm_up_steps()), name="siamese-warm-up", daemon=True
    )
    thread.start()
    return thread

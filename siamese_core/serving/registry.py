"""The web server's record of the models the model service keeps for its sessions.

A session holds a :class:`~siamese_core.serving.protocol.ModelRef` (a handle and a few facts), never
a Keras model: the web server never imports TensorFlow. The registry keeps each model's ``.keras``
bytes (a few hundred KB to a few MB), so that any service process, including one started after
another was retired or killed, can load the model when a call first names it there.

Every model has an owner (a student's id, or ``"server"``) and a bounded life: a model nobody has
used for ``idle_seconds`` is dropped, each owner keeps at most ``per_owner`` models (the oldest
goes first), and all of them together stay under ``max_bytes``. The pretrained model is never
dropped: its bytes are the shipped file's, read when first needed.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from siamese_core.serving.protocol import ModelBytes, ModelFacts, ModelRef

PRETRAINED = "pretrained"  # the shipped model's handle, the same on every server
DEFAULT_IDLE_SECONDS = 3 * 3600.0  # a lesson is shorter: a model unused for this long is dropped
DEFAULT_PER_OWNER = 8  # models one student keeps (trainings, uploads, a lesson's merged model)
DEFAULT_MAX_BYTES = 256 * 2**20  # all the models' bytes together


class ModelGone(LookupError):
    """A handle whose model was dropped (unused too long, or its owner made too many since)."""


@dataclass
class _Held:
    data: bytes
    facts: ModelFacts
    owner: str
    used: float


class ModelRegistry:
    """Thread-safe; one per server (the worker pool's ``models``)."""

    def __init__(
        self,
        pretrained_path: str | Path | None = None,
        *,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        per_owner: int = DEFAULT_PER_OWNER,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock=time.monotonic,
    ):
        if pretrained_path is None:
            from siamese_core.network.persistence import DEFAULT_MODEL

            pretrained_path = DEFAULT_MODEL
        self.pretrained_path = Path(pretrained_path)
        self.idle_seconds, self.per_owner, self.max_bytes = idle_seconds, per_owner, max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._held: OrderedDict[str, _Held] = OrderedDict()  # least recently used first
        self._pretrained: bytes | None = None
        self.dropped = 0  # how many models were dropped (tests and the teacher's page read it)

    def register(self, model: ModelBytes, owner: str) -> ModelRef:
        """File a model a worker made; its handle is new (never reused)."""
        if model.facts is None:
            raise ValueError("a model is registered with its facts")
        handle = uuid.uuid4().hex
        with self._lock:
            self._held[handle] = _Held(model.data, model.facts, owner, self._clock())
            self._expire()
        return ModelRef(handle, model.facts)

    def bytes_of(self, handle: str) -> bytes:
        """The model's ``.keras`` bytes (and it counts as used now); :class:`ModelGone` when dropped."""
        if handle == PRETRAINED:
            if self._pretrained is None:
                self._pretrained = self.pretrained_path.read_bytes()
            return self._pretrained
        with self._lock:
            held = self._held.get(handle)
            if held is None:
                raise ModelGone(handle)
            held.used = self._clock()
            self._held.move_to_end(handle)
            return held.data

    def touch(self, handles) -> None:
        """These models were just used (a call names them): they live on."""
        with self._lock:
            now = self._clock()
            for handle in handles:
                if (held := self._held.get(handle)) is not None:
                    held.used = now
                    self._held.move_to_end(handle)

    def has(self, handle: str) -> bool:
        with self._lock:
            self._expire()
            return handle == PRETRAINED or handle in self._held

    def owner_of(self, handle: str) -> str:
        with self._lock:
            held = self._held.get(handle)
            return "server" if handle == PRETRAINED else (held.owner if held else "")

    def release(self, handle: str) -> None:
        """Its owner no longer needs it (a reset, a newer training)."""
        with self._lock:
            self._held.pop(handle, None)

    def stats(self) -> tuple[int, int]:
        """(models held, their bytes), the pretrained one not counted."""
        with self._lock:
            self._expire()
            return len(self._held), sum(len(h.data) for h in self._held.values())

    def _expire(self) -> None:
        """Drop what outlived its bounds (under the lock)."""
        now = self._clock()
        for handle in [h for h, held in self._held.items() if now - held.used > self.idle_seconds]:
            del self._held[handle]
            self.dropped += 1
        owners: dict[str, list[str]] = {}
        for handle, held in self._held.items():  # least recently used first
            owners.setdefault(held.owner, []).append(handle)
        for handles in owners.values():
            for handle in handles[: max(len(handles) - self.per_owner, 0)]:
                del self._held[handle]
                self.dropped += 1
        total = sum(len(h.data) for h in self._held.values())
        while total > self.max_bytes and len(self._held) > 1:
            _handle, held = self._held.popitem(last=False)
            total -= len(held.data)
            self.dropped += 1

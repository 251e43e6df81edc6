"""The lessons beyond one training: the race of shared against unshared, composing models,
transfer, RankIQA's ranking, one-shot symbols and the N-input pitfall. Each builds on
``siamese_core.network``."""

from __future__ import annotations

from siamese_core.i18n import _


class ShownText(str):
    """A lesson task's progress sentence, made in a worker process where no student's language is
    known: its value is the English sentence (what logs, comparisons and ``+`` see), and
    ``str()`` / an f-string / ``format()`` give it in the language of whoever shows it, as the
    page's script run reads it (the msgid is marked with ``N_()`` where it is written).

    ``ShownText(N_("step {step} of {steps}"), step=25, steps=250)``. It crosses the pipe to the
    web server as its msgid and fields (``__reduce__``).
    """

    msgid: str
    fields: dict

    def __new__(cls, msgid: str, **fields) -> ShownText:
        text = super().__new__(cls, msgid.format(**fields))
        text.msgid, text.fields = msgid, fields
        return text

    def __str__(self) -> str:
        return _(self.msgid).format(**self.fields)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __reduce__(self):
        return _shown_text, (self.msgid, self.fields)


def _shown_text(msgid: str, fields: dict) -> ShownText:
    return ShownText(msgid, **fields)

"""The pages' one way to use a model: :func:`ask` the model service (the worker processes,
``siamese_core/serving/pool.py``), never Keras in the web server. A session holds handles
(``ModelRef``); what comes back is plain data, or a new handle owned by this student.

When the service cannot answer, the page says so in one sentence in the student's language and
stops drawing; nothing the student made is lost (the next click asks again).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from siamese_core.i18n import _
from siamese_core.jobs import MODEL_DROPPED, job_text
from siamese_core.serving.pool_report import ServiceError
from siamese_core.serving.registry import ModelGone
from siamese_core.tasks import ModelCall

from .resources import worker_pool


def owner() -> str:
    """Whose models a call makes: the student's id once known (a reload keeps it), else this
    session's (never writing the cookie from here: that would shift the page's elements)."""
    from .patches import current_session_id
    from .student import STUDENT

    return st.session_state.get(STUDENT) or current_session_id() or "session"


def ask(call: ModelCall, **kwargs: Any) -> Any:
    """``call(**kwargs)`` answered by the model service, models passed as handles."""
    try:
        return worker_pool().call(call.value, kwargs, owner=owner())
    except ModelGone:
        from .session import MODEL

        st.session_state.pop(MODEL, None)  # the pages fall back to the pretrained model
        why = job_text(MODEL_DROPPED)
        st.warning(why[:1].upper() + why[1:] + ".")
        st.stop()
    except ServiceError as exc:
        if exc.problem is not None:  # the student's file or picture: the page says what is wrong
            raise exc.problem from None
        st.error(
            _("The model service could not answer ({why}). Nothing was lost: try again in a moment.").format(
                why=job_text(str(exc))
            )
        )
        st.stop()

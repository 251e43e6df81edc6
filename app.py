"""Siamese Lab: the router. Every page lives in pages/, shared UI code in siamese_ui/, and
everything that computes in siamese_core/."""

# pandas and plotly before anything else, in the script thread: a page's plotly call reads
# sys.modules["pandas"] directly, and saw a half-imported pandas (AttributeError: no 'Series')
# when the warm-up thread imported it at the same moment (the 30-student load test, once).
import pandas  # noqa: F401
import plotly.express  # noqa: F401
import streamlit as st

from siamese_core.serving.memory import limit_malloc_arenas
from siamese_ui.board import projector_wanted
from siamese_ui.glossary import glossary_sidebar
from siamese_ui.language import language_switch
from siamese_ui.lesson import lesson_box
from siamese_ui.navigation import navigation_pages, page_key
from siamese_ui.patches import keep_keras_state_between_reruns
from siamese_ui.resources import worker_pool
from siamese_ui.shared import warm_up_once

limit_malloc_arenas()  # before any training thread exists: see the function's note
keep_keras_state_between_reruns()  # the one private patch applied at start (siamese_ui/patches.py)

st.set_page_config(page_title="Siamese Lab", page_icon=":material/join_inner:", layout="wide")

# Once per server, on the first visit: the model service's first process starts importing
# TensorFlow (siamese_core/serving/pool.py), in a process of its own.
worker_pool()

# The frame every page is drawn in: the session's language first (every title below is in it), the
# page table (siamese_ui/navigation.py), the glossary in the sidebar and the guided lesson's box for
# the page, before anything on the page can stop it.
language_switch()
page = st.navigation(navigation_pages())
glossary_sidebar()
key = page_key(page)
if not (key == "board" and projector_wanted()):  # the projector shows the class's board alone
    lesson_box(key)
try:
    page.run()
finally:
    # Once per server, after the first page is drawn (it would compete with it for the
    # interpreter): a thread computes what every page shows by default (siamese_ui/shared.py)
    # while that page is read.
    warm_up_once()

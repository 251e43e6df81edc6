"""Siamese Lab's shared UI code: what several pages use (session keys, cached resources, the
live panel, the SVG chart, digit pictures) and the guarded Streamlit patches. Pages live in
``pages/``; everything that computes lives in ``siamese_core`` (which never imports streamlit).
"""

from .patches import route_first_deep_link_through_app

route_first_deep_link_through_app()  # a no-op after the first request of the server

"""The words the pages use, in one place, reachable from every page (the sidebar)."""

from __future__ import annotations

import streamlit as st

from siamese_core.i18n import N_, _

# Keyed by the English term (the tests look terms up by it); terms and meanings are shown through _().
GLOSSARY: dict[str, str] = {
    N_("pair"): N_(
        "Two digits shown to the network together, labelled 1 if they are the same digit and 0 if not. "
        "The network never sees a digit's name, only whether two digits match."
    ),
    N_("embedding"): N_(
        "The vector a branch turns a digit into (for example 32 numbers). Similar digits should get "
        "nearby vectors."
    ),
    N_("distance"): N_(
        "How far apart two embeddings are: Euclidean (straight-line) or cosine (1 − cos of the angle, "
        "0 … 2). Small means 'probably the same digit'."
    ),
    N_("margin"): N_(
        "In the contrastive loss, how far apart two different digits must be before they stop costing "
        "anything. Same digits are always pulled together."
    ),
    N_("threshold"): N_(
        "The distance below which the network's verdict is 'same digit'. Accuracy depends on it."
    ),
    N_("calibrated threshold"): N_(
        "A threshold chosen on validation pairs (never the test pairs) as the one that "
        "scores best there, after each epoch; the alternative is a fixed 0.5."
    ),
    N_("ROC"): N_(
        "Receiver operating characteristic: for every threshold, the share of same pairs called 'same' "
        "against the share of different pairs wrongly called 'same'. The area under it (AUC) is 1 for a "
        "perfect ranking, 0.5 for a coin toss."
    ),
    N_("precision@1"): N_(
        "For each test digit, is its nearest other digit in the embedding the same digit? The share of yes."
    ),
    N_("MAP@R"): N_(
        "Mean average precision at R: for each test digit, rank the others by distance and check the "
        "first R (R = how many of its digit there are); 1 when all of them come before any other digit."
    ),
}


def shown_term(term: str) -> str:
    """A glossary term in the session's language, with the English word beside it where it differs
    (the word the Keras code and the sources' papers use)."""
    translated = _(term)
    return translated if term in translated else _("{term} ({english})").format(term=translated, english=term)


def glossary_sidebar() -> None:
    """The glossary as a closed expander at the bottom of the sidebar, on every page."""
    with st.sidebar.expander(_("Glossary"), icon=":material/menu_book:"):
        for term, meaning in GLOSSARY.items():
            st.markdown(_("**{term}**: {meaning}").format(term=shown_term(term), meaning=_(meaning)))

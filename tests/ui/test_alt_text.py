"""Every picture the app draws says what it shows: each st.image call passes ``alt=`` (WCAG 1.1.1;
axe's image-alt rule found 20 digit pictures without it on Evaluate alone). The browser test
(tests/e2e/test_accessibility.py) checks the rendered pages; this one checks the code, so a new
picture without a text fails here before any browser starts."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UI_FILES = sorted([*ROOT.glob("pages/*.py"), *ROOT.glob("siamese_ui/*.py"), ROOT / "app.py"])


def image_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "image":
            yield node


def test_every_picture_has_alt_text():
    missing, seen = [], 0
    for path in UI_FILES:
        for call in image_calls(ast.parse(path.read_text(), str(path))):
            seen += 1
            if not any(k.arg == "alt" for k in call.keywords):
                missing.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert seen >= 10, "the check found too few st.image calls: is it still looking at the UI code?"
    assert not missing, f"st.image without alt= at {missing}"


def test_the_check_sees_a_missing_alt():
    tree = ast.parse("import streamlit as st\nst.image(x, caption='c')\ncol.image(y, alt='a digit 7')\n")
    calls = list(image_calls(tree))
    assert [any(k.arg == "alt" for k in c.keywords) for c in calls] == [False, True]

"""The layout's rules, held by tests rather than comments.

- ``siamese_core`` never imports Streamlit (it runs in worker processes and on the command line).
- The web server's side, ``siamese_core.serving``, ``config``, ``jobs`` and every module of
  ``siamese_ui``, imports neither TensorFlow nor Keras when imported: model work happens in the
  worker processes (a module may still import TensorFlow inside a function a worker runs).
- Pages never build Keras layers.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys

import pytest

import siamese_core
import siamese_core.serving
import siamese_ui
from tests.helpers import ROOT


def modules(package) -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        if not info.name.endswith("__main__")
    )


SERVER_SIDE = [
    "siamese_core",
    "siamese_core.config",
    "siamese_core.jobs",
    "siamese_core.sources",
    "siamese_core.lessons.n_inputs",  # the web server reads the shipped counts
    *modules(siamese_core.serving),
    *modules(siamese_ui),
]


def imported_after(names: list[str]) -> set[str]:
    """The top-level packages loaded by importing ``names`` in a fresh interpreter."""
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_the_servers_side_imports_no_tensorflow_and_no_keras():
    loaded = imported_after(SERVER_SIDE)
    assert "siamese_ui" in loaded and "siamese_core" in loaded  # the check ran what it names
    assert not loaded & {"tensorflow", "keras"}, sorted(loaded & {"tensorflow", "keras"})


def test_the_whole_core_imports_no_streamlit():
    loaded = imported_after(modules(siamese_core))
    assert "tensorflow" in loaded  # the network's modules were imported for real
    assert "streamlit" not in loaded


def top_level_imports(path) -> set[str]:
    """Modules a file imports at module level (not inside functions)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize(
    "path", sorted((ROOT / "siamese_core" / "serving").glob("*.py")), ids=lambda p: p.name
)
def test_serving_does_not_import_the_network_at_import_time(path):
    imports = top_level_imports(path)
    assert not {m for m in imports if m.startswith(("tensorflow", "keras", "siamese_core.network"))}


@pytest.mark.parametrize("path", sorted((ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_build_no_keras_layers(path):
    tree = ast.parse(path.read_text())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
    }
    imports = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    assert not {m for m in imports if m.startswith(("tensorflow", "keras", "siamese_core.network._keras"))}
    assert "layers" not in names


def test_every_worker_task_names_a_function_that_takes_the_report_first():
    import importlib
    import inspect

    from siamese_core.tasks import Task

    for task in Task:
        function = getattr(importlib.import_module(task.module), task.function)
        assert callable(function), task
        assert next(iter(inspect.signature(function).parameters)) == "report", task

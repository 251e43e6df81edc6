"""What several test modules share: the app's page table as the navigation declares it, and a
student who sets every control of a page away from its default and presses every button (the
state walk, read generically from the page's widgets in AppTest)."""

from __future__ import annotations

import ast
import base64
import io
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import (
    Block,
    Button,
    ButtonGroup,
    CameraInput,
    Checkbox,
    DownloadButton,
    FileUploader,
    Multiselect,
    NumberInput,
    Radio,
    Selectbox,
    SelectSlider,
    Slider,
    TextArea,
    TextInput,
    Toggle,
    Widget,
)

from siamese_core.config import SiameseConfig
from siamese_ui.lesson import STEPS

ROOT = Path(__file__).resolve().parents[1]
SIZE = 252  # the page's canvas, in pixels
TIMEOUT = 180


# ---- the page table ---------------------------------------------------------------------------------
def navigation_pages() -> list[str]:
    """Every page file the app's navigation lists, in its order, read from the one place the table
    is declared: ``siamese_ui/navigation.py``'s ``PAGES`` where that module exists, else the
    ``st.Page("pages/...")`` calls in app.py. Never a list typed into a test."""
    try:
        from siamese_ui.navigation import PAGES  # type: ignore[import-not-found]
    except ImportError:
        tree = ast.parse((ROOT / "app.py").read_text())
        return [
            node.args[0].value
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "Page"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ]
    return [page.file for page in PAGES]


# ---- what a student types and uploads ----------------------------------------------------------------
def _digit_picture(kind: str) -> bytes:
    """A test digit as a student would upload it: dark ink on white paper, 112 px, PNG or JPEG."""
    from PIL import Image

    from siamese_core.network.data import load_dataset

    test = load_dataset("mnist-5k").test
    digit = test.x[np.flatnonzero(test.y == 7)[0]]
    image = Image.fromarray(255 - digit).resize((112, 112)).convert("RGB")
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def _english_label(label: str) -> str:
    """A widget's label as the code writes it, whatever language the walk reads the page in."""
    from siamese_core.i18n import translations

    chinese = translations("zh")._catalog if hasattr(translations("zh"), "_catalog") else {}
    return next((english for english, shown in chinese.items() if shown == label and english), label)


def _in_chinese(english: str) -> str:
    from siamese_core.i18n import in_language

    return in_language("zh", english)


@dataclass(frozen=True)
class Plausible:
    """What the walk types into text boxes and picks in option lists where it matters (by label;
    any other text box gets ``text``, any other list its next option), and what it uploads:
    values a student would really use, so an error box after them is a defect, not bad input."""

    texts: dict[str, str] = field(default_factory=dict)
    choices: dict[str, str] = field(default_factory=dict)
    text: str = "Ada 7"

    def text_for(self, label: str) -> str:
        return self.texts.get(_english_label(label), self.text)

    def upload_for(self, allowed: list[str]) -> tuple[str, bytes, str]:
        """A file of one of the uploader's types: a digit picture, or the bundled model."""
        kinds = {t.lower().lstrip(".") for t in allowed}
        if "png" in kinds:
            return "seven.png", _digit_picture("PNG"), "image/png"
        if kinds & {"jpg", "jpeg"}:
            return "seven.jpg", _digit_picture("JPEG"), "image/jpeg"
        if "keras" in kinds:
            from siamese_core.network.persistence import DEFAULT_MODEL

            return "model.keras", Path(DEFAULT_MODEL).read_bytes(), "application/octet-stream"
        raise NotImplementedError(f"the walk has no plausible file of the types {sorted(kinds)}: add one")


# ---- moving one widget --------------------------------------------------------------------------------
def _other(options: list, index: int | None) -> int:
    return 0 if index is None else (index + 1) % len(options)


def _lowest(value, low, high, step):
    """The lowest value within range, or one step up when the value is already there (the edge
    of the range, and the least work for the pages: fewest points, fewest epochs)."""
    if low is not None and value != low:
        return low
    up = value + step
    return up if high is None or up <= high else value


def move_away(widget: Widget, plausible: Plausible) -> str | None:
    """Set the widget to another value than the one it holds (a fresh page holds its default):
    flip a switch, take the next option, move a slider or number one step within its range, type
    plausible text, upload a plausible file. Returns what was done, or None where nothing can
    change (one option only). A kind of widget the walk does not know fails the test, so a new
    kind of control cannot go unwalked."""
    label = getattr(widget, "label", "") or widget.key or widget.id
    if isinstance(widget, Toggle | Checkbox):
        widget.set_value(not widget.value)
        return f"flipped {label!r} to {widget.value}"
    if isinstance(widget, Selectbox | Radio):
        if len(widget.options) < 2 and widget.index is not None:
            return None
        choice = widget.options[_other(widget.options, widget.index)]
        wanted = plausible.choices.get(_english_label(widget.label))
        for shown in (wanted, wanted and _in_chinese(wanted)):  # as the option reads in the walk's language
            if shown in widget.options and shown != widget.value:
                choice = shown
        widget.set_value(choice)
        return f"chose {choice!r} in {label!r}"
    if isinstance(widget, SelectSlider):
        options = list(widget.options)
        value = widget.value
        if isinstance(value, tuple | list):  # a range: move its upper end
            high = options.index(str(value[1])) if str(value[1]) in options else len(options) - 1
            upper = options[high - 1 if high == len(options) - 1 else high + 1]
            widget.set_value([str(value[0]), upper])
            return f"moved {label!r} to {value[0]} … {upper}"
        if len(options) < 2:
            return None
        choice = options[1] if str(value) == options[0] else options[0]
        widget.set_value(choice)
        return f"moved {label!r} to {choice}"
    if isinstance(widget, Slider):
        value = widget.value
        step = widget.step or 1
        if isinstance(value, tuple | list):
            upper = _lowest(value[1], value[0], widget.max, step)
            widget.set_value((value[0], upper))
            return f"moved {label!r} to {value[0]} … {upper}"
        new = _lowest(value, widget.min, widget.max, step)
        if isinstance(value, int):
            new = int(new)  # an int slider's bounds come as floats
        if new == value:
            return None
        widget.set_value(new)
        return f"moved {label!r} from {value} to {new}"
    if isinstance(widget, NumberInput):
        value, step = widget.value, widget.step or 1
        low = widget.min if widget.proto.has_min else None
        high = widget.max if widget.proto.has_max else None
        new = (low if low is not None else step) if value is None else _lowest(value, low, high, step)
        if isinstance(value, int) and not isinstance(value, bool):
            new = int(new)  # an int input's bounds come as floats
        if new == value:
            return None
        widget.set_value(new)
        return f"set {label!r} from {value} to {new}"
    if isinstance(widget, Multiselect):
        chosen = list(widget.values)
        room = widget.max_selections == 0 or len(chosen) < widget.max_selections
        spare = [o for o in widget.options if o not in chosen]
        if spare and room:
            widget.set_value([*chosen, spare[0]])
            return f"added {spare[0]!r} to {label!r}"
        if chosen:
            widget.set_value(chosen[1:])
            return f"removed {chosen[0]!r} from {label!r}"
        return None
    if isinstance(widget, ButtonGroup):
        options = [o.content for o in widget.options]
        chosen = list(widget.indices)
        choice = options[_other(options, chosen[0] if chosen else None)]
        widget.set_value(choice)
        return f"picked {choice!r} in {label!r}"
    if isinstance(widget, TextInput | TextArea):
        text = plausible.text_for(widget.label)
        if widget.value == text:
            return None
        widget.input(text)
        return f"typed {text!r} into {label!r}"
    if isinstance(widget, FileUploader):
        name, content, mime = plausible.upload_for(widget.allowed_type)
        widget.set_value((name, content, mime))
        return f"uploaded {name} to {label!r}"
    if isinstance(widget, CameraInput):
        widget.set_value(("seven.jpg", _digit_picture("JPEG"), "image/jpeg"))
        return f"took a photo of a 7 with {label!r}"
    raise NotImplementedError(f"the state walk cannot set a {type(widget).__name__} ({label!r}): teach it")


# ---- the walk ------------------------------------------------------------------------------------------
def widgets(at: AppTest) -> Iterator[Widget]:
    """Every widget on the page as drawn now, main area first, then the sidebar."""
    for block in (at.main, at.sidebar):
        for node in block:
            if isinstance(node, Widget):
                yield node


def tab_sets(at: AppTest) -> Iterator[tuple[str, list[str]]]:
    """(key, labels) of each keyed tab set: with ``on_change="rerun"`` only the open tab's body
    runs, so the walk opens each one (through session state, the documented way to switch)."""
    for block in (at.main, at.sidebar):
        for node in block:
            if isinstance(node, Block) and node.type == "tab_container" and node.key:
                yield node.key, [tab.label for tab in node.children.values()]


def is_button(widget: Widget) -> bool:
    return isinstance(widget, Button | DownloadButton)


def identity(widget: Widget) -> str:
    """Keyed widgets by key; others by kind and label (their id changes with their arguments)."""
    return widget.key or f"{type(widget).__name__}:{getattr(widget, 'label', widget.id)}"


MAX_COLUMN_DEPTH = 2  # a row of columns inside a column: what any page means to draw


def column_depth(node, depth: int = 0) -> int:
    """How deep ``st.columns`` nest under this element tree node (AppTest's)."""
    here = depth + (getattr(node, "type", None) == "column")
    children = getattr(node, "children", None) or {}
    return max([here, *(column_depth(child, here) for child in children.values())])


@dataclass
class Walk:
    """One student's walk over one page: what was done, and what went wrong after which step."""

    page: str
    plausible: Plausible
    provoked: tuple[str, ...] = ()  # error sentences the walk provokes on purpose (regexes)
    skip: tuple[str, ...] = ()  # widget keys set outside the walk (the lesson's switch)
    settle: Callable[[], None] = lambda: None  # after each press: let work the walk stopped end
    max_actions: int = 150
    language: str = "en"  # in "zh", English left on the page after any action is a problem too
    done: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    title: str = ""

    def check(self, at: AppTest, action: str) -> None:
        for exc in at.exception:
            # the app shows students only the exception's type (showErrorDetails = "type"); the
            # type is in the element, the full traceback in the test's captured output
            self.problems.append(f"after {action}: exception {exc.proto.type}: {exc.value}")
        for error in at.error:
            if not any(re.search(p, error.value) for p in self.provoked):
                self.problems.append(f"after {action}: error box {error.value!r}")
        if self.language != "en" and (
            left := sorted({f"{r!r} in {t[:160]!r}" for t in shown_words(at) for r in english_runs(t)})
        ):
            self.problems.append(f"after {action}: English left on a page in {self.language}: {left}")
        if (depth := column_depth(at._tree)) > MAX_COLUMN_DEPTH:
            self.problems.append(
                f"after {action}: columns nested {depth} deep (at most {MAX_COLUMN_DEPTH}: a loop that "
                "reuses a column's name builds each row inside the last; Evaluate's hardest mistakes did)"
            )

    def run(self, at: AppTest, action: str) -> None:
        started = time.perf_counter()
        at.run()
        self.check(at, action)
        if at.title and self.title and at.title[0].value != self.title:
            # a button changed page (the lesson's Next): AppTest's next run opens the walked page again
            at.run()
            self.check(at, f"coming back to {self.page} after {action}")
        elif at.exception:  # the rest of the page was not drawn: the student goes on, the page reruns
            at.run()
            self.check(at, f"the rerun after {action}")
        self.done.append(f"{action} ({time.perf_counter() - started:.1f} s)")

    def __call__(self, at: AppTest) -> Walk:
        """Set every widget away from its default, then press every enabled button, and the same
        for whatever they reveal (a form, a Stop after a Start, each tab of a tab set that runs
        only its open tab), until nothing new is left."""
        self.title = at.title[0].value if at.title else ""
        self.check(at, f"opening {self.page}")
        seen: set[str] = set(self.skip)
        while len(self.done) < self.max_actions:
            pending = [w for w in widgets(at) if identity(w) not in seen and not w.disabled]
            if setting := [w for w in pending if not is_button(w) and not w.form_id]:
                seen.add(identity(setting[0]))
                if (action := move_away(setting[0], self.plausible)) is not None:
                    self.run(at, action)
            elif pressing := [w for w in pending if is_button(w)]:
                button = pressing[0]
                seen.add(identity(button))
                typed = [  # a form's fields are sent with its submit button, as a browser does
                    move_away(w, self.plausible)
                    for w in widgets(at)
                    if button.form_id and w.form_id == button.form_id and not is_button(w)
                ]
                button.click()
                self.run(at, "; ".join([t for t in typed if t] + [f"pressed {button.label!r}"]))
                self.settle()
            elif closed := [
                (k, t) for k, labels in tab_sets(at) for t in labels if f"tab {k} {t}" not in seen
            ]:
                key, label = closed[0]
                seen.add(f"tab {key} {label}")
                at.session_state[key] = label
                self.run(at, f"opened the tab {label!r}")
            else:
                return self
        self.problems.append(f"the walk stopped after {self.max_actions} actions: {self.done[-5:]}")
        return self


# ---- from test_pages.py ----------------------------------------------------------------
def app(page: str | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def finished_student():
    """A student's AppTest on the Train page after a finished TINY run, and that run's job."""
    from siamese_core.jobs import Status

    student = app("pages/train.py", TINY)
    next(b for b in student.button if b.label == "Start").click().run()
    job = student.session_state["train.job"]
    assert job.join(TIMEOUT)
    student.run()
    assert job.snapshot().status == Status.FINISHED
    return student, job


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def form(at) -> dict:
    from siamese_ui.train_form import FIELDS, FORM

    return {field: at.session_state[FORM + field] for field in FIELDS}


def as_form(config: SiameseConfig) -> dict:
    from siamese_ui.train_form import FIELDS

    return {f: list(getattr(config, f)) if f == "held_out_classes" else getattr(config, f) for f in FIELDS}


TINY = {
    "train.dataset": "mnist-5k",
    "train.epochs": "1",
    "train.pairs_per_epoch": "1024",
    "train.batch_size": "64",
    "train.branch": "mlp",
    "train.embedding_dim": "16",
    "train.steps_per_execution": "1",  # every batch a point (the classroom preset runs 8 a call)
    "train.optimizer": "adam",
}


def trained_app(query: dict) -> AppTest:
    at = app("pages/train.py", {**TINY, **query})
    next(x for x in at.button if x.label == "Start").click().run()
    assert at.session_state["train.job"].join(TIMEOUT)
    at.run()
    return at


def image_values(encoded) -> np.ndarray:
    """Plotly writes arrays as {"dtype", "bdata" (base64)} in its JSON."""
    import base64

    if isinstance(encoded, dict):
        return np.frombuffer(base64.b64decode(encoded["bdata"]), encoded["dtype"])
    return np.asarray(encoded, float)


# ---- from test_lesson.py ----------------------------------------------------------------
PAGE_TITLES = {  # each page's st.title, as a student reads it
    "compare": "Compare two digits",
    "weight_sharing": "Weight-sharing lab",
    "train": "Train",
    "embeddings": "Embeddings",
    "evaluate": "Evaluate",
    "lessons": "More lessons",
    "board": "Class board",
}


def box(at) -> list[str]:
    """The lesson box's lines on the page shown ([] when there is no box)."""
    lines = [m.value for m in at.markdown]
    heads = [k for k, line in enumerate(lines) if line.startswith("**Guided lesson · step")]
    return lines[heads[0] : heads[0] + 4] if heads and "Predict" in lines[heads[0] + 1] else []


def shows_step(at, k: int) -> None:
    step = STEPS[k]
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == PAGE_TITLES[step.page]
    head, predict, try_, notice = box(at)
    assert head == f"**Guided lesson · step {k + 1} of {len(STEPS)} · {step.title}**"
    assert step.predict in predict and step.try_ in try_ and notice.startswith(":material/visibility:")


def click(at, key: str) -> None:
    next(b for b in at.button if b.key == key).click().run()


def move(at, widget, value, default=None) -> None:
    """Set a widget as a student does in the browser. The browser also writes a bound widget's
    new value into the address, which AppTest leaves to it: we write it here, or the test would
    miss every defect that needs the parameter there (st.switch_page's refusal included). A value
    equal to the widget's ``default`` leaves the address, as Streamlit drops it there."""
    widget.set_value(value)
    if getattr(widget.proto, "query_param_key", ""):
        if default is not None and value == default:
            at.query_params.pop(widget.key, None)
        else:
            at.query_params[widget.key] = url_value(value)
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def open_class(board_path) -> str:
    """A class opened on a fresh SQLite board, as the Teacher page opens one; its code."""
    import sqlalchemy as sa

    from siamese_core.serving.board import Board

    board = Board(sa.create_engine(f"sqlite:///{board_path}"))
    board.ensure_schema()
    return board.open_class("Year 9").code


# ---- from test_oneshot_page.py ----------------------------------------------------------------
STROKES = {  # each symbol as strokes in 0..1 canvas coordinates
    "bar": [[(0.5, 0.15), (0.5, 0.85)]],
    "dash": [[(0.15, 0.5), (0.85, 0.5)]],
    "vee": [[(0.2, 0.2), (0.5, 0.8), (0.8, 0.2)]],
}


def drawing(strokes) -> dict:
    """What the canvas sends after the student draws ``strokes``: white ink on black, as a PNG."""
    picture = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 255))
    pen = ImageDraw.Draw(picture)
    for stroke in strokes:
        pen.line([(x * SIZE, y * SIZE) for x, y in stroke], fill=(255, 255, 255, 255), width=14)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}}


def url_value(value) -> str | list[str]:
    """A widget's value as the browser writes it into the address (true/false, 5, an option)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


# ---- from test_race.py ----------------------------------------------------------------
# the race's network and budget, shrunk for a test
TINY_RACE = SiameseConfig(
    dataset="mnist-5k",
    branch="mlp",
    embedding_dim=8,
    distance="cosine",
    margin=0.5,
    optimizer="adam",
    learning_rate=3e-3,
    batch_size=64,
    epochs=2,
    pairs_per_epoch=512,
    steps_per_execution=1,
)


# ---- the words on a page, for the language tests (tests/ui/test_chinese.py) -------------------
# Proto fields that never hold words a reader reads: identities, icons, styling, addresses, data.
_NOT_WORDS = {"id", "form_id", "key", "icon", "css", "url", "src", "theme", "type", "format", "value"}
_HTML_ATTRIBUTE_WORDS = re.compile(r'(?:aria-label|alt|title)="([^"]*)"')


def _plotly_words(spec: str) -> Iterator[str]:
    """The words a Plotly figure shows: its title, axis and legend titles, trace names, hovers and
    annotations."""
    figure = json.loads(spec)
    layout = figure.get("layout", {})
    for part in layout.values():
        if isinstance(part, dict) and isinstance(part.get("title"), dict):
            yield str(part["title"].get("text") or "")
    if isinstance(layout.get("title"), dict):
        yield str(layout["title"].get("text") or "")
    for note in layout.get("annotations", []):
        yield str(note.get("text") or "")
    for trace in figure.get("data", []):
        for name in ("name", "hovertemplate"):
            if isinstance(trace.get(name), str):
                yield trace[name]
        title = (trace.get("colorbar") or {}).get("title")
        if isinstance(title, dict):
            yield str(title.get("text") or "")


def _proto_words(message) -> Iterator[str]:
    for descriptor, value in message.ListFields():
        if descriptor.name in _NOT_WORDS:
            continue
        if descriptor.type not in (descriptor.TYPE_STRING, descriptor.TYPE_MESSAGE):
            continue
        items = [value] if isinstance(value, str) or hasattr(value, "ListFields") else list(value)
        if descriptor.name == "spec" and isinstance(value, str) and value.lstrip().startswith("{"):
            yield from _plotly_words(value)  # a Plotly figure's JSON
        elif descriptor.name == "spec" and isinstance(value, str):  # a Graphviz graph's DOT
            yield from re.findall(r'(?:label|tooltip|xlabel)="((?:[^"\\]|\\.)*)"', value)
        elif descriptor.type == descriptor.TYPE_STRING:
            yield from items
        else:
            for item in items:
                yield from _proto_words(item)


def shown_words(at: AppTest) -> list[str]:
    """Every piece of text the page shows, from the element tree AppTest holds: labels, help,
    bodies, options, captions, alerts, expander and tab labels, table headers and text cells,
    chart titles, axes, legends and hovers, alt and aria-label texts. Generic over the elements
    (their protos), so a new widget is read without a change here."""
    out: list[str] = []

    def visit(node) -> None:
        proto = getattr(node, "proto", None)
        kind = type(node).__name__
        if proto is not None and kind not in ("Latex", "Code"):  # code is code in every language
            words = list(_proto_words(proto))
            if kind == "Html":  # markup: the words a reader (or a screen reader) gets
                words = [
                    re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", w, flags=re.S))
                    + " "
                    + " ".join(_HTML_ATTRIBUTE_WORDS.findall(w))
                    for w in words
                ]
            out.extend(words)
        if kind == "Dataframe":
            frame = node.value
            out.extend(str(c) for c in frame.columns)
            out.extend(str(v) for c in frame.columns for v in frame[c] if isinstance(v, str))
        for child in getattr(node, "children", {}).values():
            visit(child)

    visit(at._tree)
    return out


# Names a student reads as names in every language: the app's, the papers' titles, people, data sets.
TECHNICAL_PHRASES = (
    "Siamese Lab",
    "Dimensionality Reduction by Learning an Invariant Mapping",
    "MatchNet: Unifying Feature and Metric Learning for Patch-Based Matching",
    "RankIQA: Learning from Rankings for No-reference Image Quality Assessment",
    "The MNIST database of handwritten digits",
    "van de Weijer",
)


def english_runs(text: str) -> list[str]:
    """Runs of three or more English words in ``text``, outside code, addresses and the names above."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"https?://\S+|<[^>\s]+>|:material/\w+:|\$[^$]*\$", " ", text)
    for phrase in TECHNICAL_PHRASES:
        text = text.replace(phrase, " ")
    return re.findall(r"(?<![\w.])[A-Za-z][A-Za-z'’-]*(?:[ \t]+[A-Za-z][A-Za-z'’-]*){2,}", text)


def keras_model(ref, pool=None):
    """The Keras model a handle names, loaded in the test process from the bytes the model service
    keeps (``pool``, else the app's own; a test may import TensorFlow, the web server never does)."""
    from siamese_core.serving.protocol import load_keras

    if pool is None:
        from siamese_ui.resources import worker_pool

        pool = worker_pool()
    return load_keras(pool.models.bytes_of(ref.handle))


def tensorflow_in(pid: int) -> list[str]:
    """The TensorFlow libraries a process has loaded (read off its memory map), [] when none."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:  # gone, or not Linux
        return []
    return sorted({line.split()[-1] for line in maps.splitlines() if "tensorflow" in line.split()[-1]})


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc; [] elsewhere)."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("PPid:") and int(line.split()[1]) == pid:
                out.append(int(status.parent.name))
                break
    return out


def running(pid: int) -> bool:
    """Alive and not a zombie (a process may end between two questions about it)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False

"""The translation catalogues' one workflow, with Babel (README, "Languages").

    python tools/translations.py update    # extract every _() / N_() / ngettext() message into
                                           # siamese_core/locales/messages.pot, bring each
                                           # language's .po up to date with it, and compile the .mo
    python tools/translations.py compile   # only compile the .po files (after editing a translation)

The compiled ``.mo`` files are committed, so ``pip install -r requirements.txt`` needs nothing else;
``tests/test_translations.py`` fails when a ``.mo`` no longer matches its ``.po``, when a message
in the code is missing from a catalogue, or when a translation is empty.

Partial catalogues in ``siamese_core/locales/parts/*.po`` (several translators at once) are merged
into the language's ``.po`` by ``update`` and can then be deleted.
"""

from __future__ import annotations

import fcntl
import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "siamese_core" / "locales"
POT = LOCALES / "messages.pot"
LANGUAGES = ["zh_CN"]  # each a folder under locales/ (siamese_core/i18n.py's CATALOGUE)
KEYWORDS = ["-k", "N_", "-k", "ngettext:1,2"]  # _ and gettext are Babel's defaults


def pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract() -> None:
    pybabel(
        "extract", "-F", str(ROOT / "babel.cfg"), *KEYWORDS, "--project", "Siamese Lab",
        "--copyright-holder", "Siamese Lab", "--sort-by-file", "-o", str(POT), str(ROOT),
    )  # fmt: skip


def update() -> None:
    for language in LANGUAGES:
        po = LOCALES / language / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            pybabel("init", "-i", str(POT), "-d", str(LOCALES), "-l", language)
        # No fuzzy matching: a guessed translation of a changed sentence would be shown as if checked.
        pybabel("update", "-i", str(POT), "-d", str(LOCALES), "-l", language, "--no-fuzzy-matching",
                "--ignore-obsolete")  # fmt: skip
        merge_parts(po, language)


def merge_parts(po: Path, language: str) -> None:
    parts = sorted((LOCALES / "parts").glob("*.po"))
    if not parts:
        return
    with po.open("rb") as f:
        catalogue = read_po(f, locale=language)
    for part in parts:
        with part.open("rb") as f:
            for message in read_po(f, locale=language):
                if message.id and message.string and message.id in catalogue:
                    target = catalogue[message.id]
                    target.string = message.string
                    target.flags.discard("fuzzy")
    with po.open("wb") as f:
        write_po(f, catalogue, width=100)


def compile_all() -> None:
    pybabel("compile", "-d", str(LOCALES), "-D", "messages")


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "update"
    with open("/tmp/siamese-lab-translations.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several translators at once: one update at a time
        if command == "update":
            extract()
            update()
        compile_all()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

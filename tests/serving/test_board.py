"""The class board's storage (siamese_core/serving/board.py), against SQLite and a real PostgreSQL,
and its statistics (siamese_core/serving/board_stats.py) over entries read back from it.

PostgreSQL: ``SIAMESE_LAB_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts Debian's
PostgreSQL and sets it); each test gets its own fresh database there. Without it the
PostgreSQL half is skipped, unless ``SIAMESE_LAB_REQUIRE_POSTGRES=1`` (CI), where that fails.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from siamese_core.config import PRESETS
from siamese_core.serving.board import Board
from siamese_core.serving.board_records import (
    ALREADY_POSTED,
    CODE_LENGTH,
    BoardError,
    BoardUnavailable,
    Posted,
    RunFacts,
    SchemaTooNew,
    clean_code,
    clean_nickname,
)
from siamese_core.serving.board_stats import SharingGap, setup_words, sharing_gaps, summary

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("SIAMESE_LAB_TEST_POSTGRES_URL")
REQUIRE_PG = os.environ.get("SIAMESE_LAB_REQUIRE_POSTGRES") == "1"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'board.sqlite'}")
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("SIAMESE_LAB_REQUIRE_POSTGRES=1 but SIAMESE_LAB_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server (set SIAMESE_LAB_TEST_POSTGRES_URL; .ci/run starts one)")
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"board_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = sa.create_engine(sa.make_url(PG_URL).set(database=name))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


def test_a_postgresql_board_over_tls_is_encrypted():
    """A hosted database needs TLS: CI's server has it on, and the board's URL asks for it
    (sslmode=require); the server itself says whether this connection is encrypted."""
    if not PG_URL or "sslmode=require" not in PG_URL:
        if REQUIRE_PG:
            pytest.fail(f"CI's PostgreSQL URL must ask for TLS (sslmode=require): {PG_URL}")
        pytest.skip("no PostgreSQL URL with sslmode=require (.ci/run makes one)")
    # in a fresh process that imports TensorFlow as the web server does: loaded before psycopg, its
    # own TLS library made the first encrypted connection abort the process (siamese_core/__init__.py)
    script = (
        "import sys, sqlalchemy as sa\n"
        "import siamese_core, tensorflow\n"
        "from siamese_core.serving.board import Board\n"
        "engine = sa.create_engine(sys.argv[1])\n"
        "with engine.connect() as conn:\n"
        "    print(conn.exec_driver_sql('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()').scalar())\n"
        "print(Board(engine).ensure_schema())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, PG_URL], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "1"]  # encrypted, and the board works over it


@pytest.fixture
def board(engine):
    board = Board(engine)
    board.ensure_schema()
    return board


def facts(run_id: str, accuracy: float = 0.9, shared: bool = True, setup: str = "classroom") -> RunFacts:
    return RunFacts(run_id, setup, shared, 10_000 if shared else 18_000, accuracy, 0.95, 3.5, "mnist-5k")


def test_the_schema_is_created_on_first_use_versioned_and_a_newer_one_refused(engine):
    board = Board(engine)
    assert board.ensure_schema() == 1
    assert board.ensure_schema() == 1  # a second server start: nothing created twice
    names = set(sa.inspect(engine).get_table_names())
    assert {"board_meta", "board_classes", "board_members", "board_entries"} <= names
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE board_meta SET value = '99' WHERE key = 'schema_version'"))
    with pytest.raises(SchemaTooNew, match="newer Siamese Lab"):
        Board(engine).ensure_schema()


def test_codes_and_nicknames_are_checked_with_one_sentence():
    assert clean_code(" k7qx-2m ") == "K7QX2M"
    for bad in ("", "K7QX2", "K7QX2MM", "K0QX2M", "K7QX2!"):  # 0 is not in the alphabet (read as O)
        with pytest.raises(BoardError, match="is not a class code"):
            clean_code(bad)
    assert clean_nickname("  Ada   L. ") == "Ada L."
    assert clean_nickname("<b>Bob</b>") == "<b>Bob</b>"  # allowed: shown escaped everywhere
    with pytest.raises(BoardError, match="Type a nickname"):
        clean_nickname("   ")
    with pytest.raises(BoardError, match="at most 24 characters; this one has 25"):
        clean_nickname("x" * 25)
    for bad in ("bell\x07", "zero\u200bwidth", "nul\x00"):
        with pytest.raises(BoardError, match="printable"):
            clean_nickname(bad)


def test_classes_join_and_nicknames(board):
    one, two = board.open_class("Year 12 Tuesday"), board.open_class("Year 13")
    assert re.fullmatch(rf"[A-Z2-9]{{{CODE_LENGTH}}}", one.code) and one.code != two.code
    assert board.join(one.code.lower(), "s1", "Ada").code == one.code
    with pytest.raises(BoardError, match="already uses the nickname"):
        board.join(one.code, "s2", "ADA")  # case does not make a second Ada
    board.join(two.code, "s2", "Ada")  # another class: fine
    wrong = "22222Z" if one.code != "22222Z" else "33333Z"
    with pytest.raises(BoardError, match=f"No class has the code {wrong}"):
        board.join(wrong, "s3", "Cy")
    board.close_class(one.code)
    with pytest.raises(BoardError, match="is closed"):
        board.join(one.code, "s3", "Cy")
    assert [c.code for c in board.classes(include_closed=False)] == [two.code]
    board.reopen_class(one.code)
    board.join(one.code, "s1", "Ada L")  # joining again renames
    assert board.nickname(one.code, "s1") == "Ada L"
    assert board.nicknames(["s1", "s2", "nobody"]) == {"s1": "Ada L", "s2": "Ada"}
    sly = "x'); DROP TABLE board--"  # bound parameters: just a nickname
    board.join(one.code, "s4", sly)
    assert (
        board.nickname(one.code, "s4") == sly
        and "board_classes" in sa.inspect(board.engine).get_table_names()
    )


def test_posting_rules_members_once_no_cross_class_and_removal_sticks(board):
    one, two = board.open_class("A"), board.open_class("B")
    board.join(one.code, "s1", "Ada")
    board.join(two.code, "s2", "Bo")
    with pytest.raises(BoardError, match="Join the class"):
        board.post(one.code, "s2", facts("r2"))  # s2 joined B, not A
    first = board.post(one.code, "s1", facts("r1", 0.91))
    with pytest.raises(BoardError, match=re.escape(ALREADY_POSTED)):
        board.post(one.code, "s1", facts("r1", 0.99))  # the same run, even with other numbers
    board.join(two.code, "s1", "Ada")
    with pytest.raises(BoardError, match=re.escape(ALREADY_POSTED)):
        board.post(two.code, "s1", facts("r1"))  # nor to another board
    board.post(two.code, "s2", facts("r3", 0.8, shared=False))
    assert [(e.nickname, e.test_accuracy) for e in board.entries(one.code)] == [("Ada", 0.91)]
    assert [e.nickname for e in board.entries(two.code)] == ["Bo"]  # two classes never mix
    assert set(board.posted(["r1", "r3", "r9"])) == {"r1", "r3"}
    assert board.remove(one.code, first) is True
    assert board.remove(two.code, first) is False  # the teacher of B cannot reach A's entry
    assert board.entries(one.code) == []
    with pytest.raises(BoardError, match=re.escape(ALREADY_POSTED)):
        board.post(one.code, "s1", facts("r1"))  # a removed run does not come back
    assert board.posted(["r1", "r3"]) == {"r1": Posted(one.code, removed=True), "r3": Posted(two.code)}
    board.close_class(two.code)
    with pytest.raises(BoardError, match="closed"):
        board.post(two.code, "s2", facts("r4"))
    board.reopen_class(two.code)
    board.post(two.code, "s2", facts("r4"))
    assert board.clear(two.code) == 2 and board.entries(two.code) == []
    assert [e.id for e in board.entries(one.code)] == []


def test_a_students_own_board_takes_only_their_runs(board):
    mine = board.solo_class("s1")
    assert mine.solo and board.solo_class("s1").code == mine.code  # created once
    board.post(mine.code, "s1", facts("r1"), nickname="me")
    with pytest.raises(BoardError, match="another student's own board"):
        board.post(mine.code, "s2", facts("r2"), nickname="intruder")
    with pytest.raises(BoardError, match="is not a class code"):
        board.join(mine.code, "s2", "intruder")  # nobody joins it
    assert [c.code for c in board.classes()] == []  # not a teacher's class


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("test_accuracy", math.nan, "test pair accuracy"),
        ("auc", 1.5, "AUC"),
        ("parameters", 0, "parameter count"),
    ],
)
def test_numbers_a_run_cannot_have_are_refused(board, field, value, words):
    code = board.open_class("A").code
    board.join(code, "s1", "Ada")
    bad = RunFacts(**{**facts("r1").__dict__, field: value})
    with pytest.raises(BoardError, match=words):
        board.post(code, "s1", bad)
    assert board.entries(code) == []


def test_thirty_concurrent_posts_lose_none(board):
    code = board.open_class("Thirty").code
    for k in range(30):
        board.join(code, f"s{k}", f"student {k}")
    start = threading.Barrier(30)
    ids, errors = [], []

    def post(k: int) -> None:
        start.wait()
        try:
            ids.append(board.post(code, f"s{k}", facts(f"run-{k}", 0.9 + k / 1000, shared=k % 2 == 0)))
        except Exception as error:  # any error is a lost post
            errors.append(repr(error))

    threads = [threading.Thread(target=post, args=(k,)) for k in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    entries = board.entries(code)
    assert len(entries) == 30 and sorted(ids) == sorted(e.id for e in entries)
    assert {e.nickname for e in entries} == {f"student {k}" for k in range(30)}
    assert sorted(e.test_accuracy for e in entries) == pytest.approx([0.9 + k / 1000 for k in range(30)])


def test_summary_per_setup_worked_by_hand(board):
    code = board.open_class("A").code
    rows = [("s1", 0.80, True, "classroom"), ("s2", 0.90, True, "classroom"), ("s3", 0.95, True, "classroom")]
    rows += [("s4", 0.70, False, "classroom"), ("s5", 0.90, False, "classroom"), ("s6", 0.97, True, "cnn")]
    for k, (student, accuracy, shared, setup) in enumerate(rows):
        board.join(code, student, student)
        board.post(code, student, facts(f"r{k}", accuracy, shared, setup))
    table = {
        (s.setup, s.shared): (s.count, s.median_accuracy, s.best_accuracy)
        for s in summary(board.entries(code))
    }
    assert table == {
        ("classroom", True): (3, pytest.approx(0.90), pytest.approx(0.95)),  # median of 0.80, 0.90, 0.95
        ("classroom", False): (2, pytest.approx(0.80), pytest.approx(0.90)),  # (0.70 + 0.90) / 2
        ("cnn", True): (1, pytest.approx(0.97), pytest.approx(0.97)),
    }


def test_setup_words_name_the_nearest_preset_and_what_differs():
    assert setup_words(PRESETS["classroom"]) == "classroom"
    assert (
        setup_words(PRESETS["classroom"].replace(shared=False, seed=3)) == "classroom"
    )  # sharing is a colour
    assert (
        setup_words(PRESETS["classroom"].replace(margin=0.25, epochs=3))
        == "classroom · margin 0.25 · epochs 3"
    )


def test_an_unreachable_or_read_only_database_gives_one_sentence(tmp_path):
    missing = Board(sa.create_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'board.sqlite'}"))
    with pytest.raises(BoardUnavailable, match="cannot be reached"):
        missing.ensure_schema()
    nobody = Board(sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/board?connect_timeout=2"))
    with pytest.raises(
        BoardUnavailable, match="The class board is unavailable: the database cannot be reached"
    ):
        nobody.entries("K7QX2M")
    path = tmp_path / "board.sqlite"
    writable = Board(sa.create_engine(f"sqlite:///{path}"))
    writable.ensure_schema()
    code = writable.open_class("A").code
    writable.join(code, "s1", "Ada")
    writable.post(code, "s1", facts("r1"))
    read_only = Board(sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true"))
    assert [e.nickname for e in read_only.entries(code)] == ["Ada"]  # the board still shows
    with pytest.raises(BoardUnavailable, match="read-only"):
        read_only.post(code, "s1", facts("r2"))


def test_a_code_with_a_misread_character_names_the_characters_codes_never_use():
    """The alphabet leaves out 0, 1, I and O (they look alike on a projector): a code typed with
    one of them is told so, instead of "a code is 6 letters and digits" (which it was)."""
    with pytest.raises(BoardError) as caught:
        clean_code("K0QX2M")
    assert str(caught.value) == (
        "“K0QX2M” is not a class code: codes never use 0, 1, I or O, because they are easy to misread on a "
        "projector, and this one has 0. Look again at the code your teacher shows."
    )
    from siamese_core.serving.board_records import CODE_ALPHABET, NEVER_IN_CODES

    assert NEVER_IN_CODES == "01IO" and not set(NEVER_IN_CODES) & set(CODE_ALPHABET)
    with pytest.raises(BoardError, match="and this one has 1, I and O"):
        clean_code("OI1ABC")
    with pytest.raises(BoardError, match=r"a code has 6 characters \(this has 5\).* never 0, 1, I or O"):
        clean_code("K7QX2")


def test_the_class_a_student_joined_is_kept_by_student_id(board):
    """A reload or the teacher's link opens a new session: the membership is found in the
    database by the student's id, the class joined last first, a closed class no more."""
    one, two = board.open_class("Year 12"), board.open_class("Year 13")
    assert board.joined_class("s1") is None
    board.join(one.code, "s1", "Ada")
    assert board.joined_class("s1") == (board.class_info(one.code), "Ada")
    board.join(two.code, "s1", "Ada B")
    assert board.joined_class("s1")[0].code == two.code
    board.join(one.code, "s1", "Ada L")  # joining again makes it the class the student is in now
    assert board.joined_class("s1") == (board.class_info(one.code), "Ada L")
    board.close_class(one.code)
    assert board.joined_class("s1")[0].code == two.code
    board.solo_class("s1")  # a student's own board is not a class they joined
    board.close_class(two.code)
    assert board.joined_class("s1") is None
    assert board.joined_class("s2") is None


def test_posted_says_which_board_each_run_went_to(board):
    code = board.open_class("A").code
    board.join(code, "s1", "Ada")
    board.post(code, "s1", facts("r1"))
    mine = board.solo_class("s1").code
    board.post(mine, "s1", facts("r2"), nickname="me")
    assert board.posted(["r1", "r2", "r3"]) == {"r1": Posted(code), "r2": Posted(mine)}


def test_sharing_is_compared_within_a_setup_never_across_worked_by_hand(board):
    """Two classroom runs (tiny CNN, shared, 111,712 parameters) and a race's two sides (MLP,
    121,120 shared and 242,240 unshared). Across setups the old headline said shared 98.09%
    (median of 98.09, 98.09, 95.95) against unshared 91.33%: +6.76 points, with 242,240 /
    111,712 = 2.17x the parameters. Only the MLP setup has both: 95.95 - 91.33 = +4.62 points,
    242,240 / 121,120 = exactly 2x (unsharing doubles the branch; the distance head has none)."""
    code = board.open_class("A").code
    rows = [
        ("s1", "classroom", True, 111_712, 0.9809),
        ("s2", "classroom", True, 111_712, 0.9809),
        ("s3", "classroom · branch mlp", True, 121_120, 0.9595),
        ("s3", "classroom · branch mlp", False, 242_240, 0.9133),
    ]
    for k, (student, setup, shared, parameters, accuracy) in enumerate(rows):
        board.join(code, student, student)
        board.post(code, student, RunFacts(f"r{k}", setup, shared, parameters, accuracy, 0.99, 3.0, "mnist"))
    (gap,) = sharing_gaps(board.entries(code))
    assert gap == SharingGap("classroom · branch mlp", 1, 1, 0.9595, 0.9133, 121_120, 242_240)
    assert round(100 * (gap.shared_median - gap.unshared_median), 2) == 4.62
    assert gap.unshared_parameters / gap.shared_parameters == 2.0

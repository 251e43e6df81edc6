"""The class board: classes, their members and the runs they post, kept in a SQL database.

Plain SQLAlchemy Core over any engine: a SQLite file on a laptop, a PostgreSQL server for a
board that outlives a reboot on Community Cloud. The web app hands in the engine of its
``st.connection("board", type="sql")``; the tests hand in their own. Nothing here imports
Streamlit or TensorFlow.

Rules the storage itself enforces, so no page can get them wrong:
- a run is posted once (``run_id`` is unique, and a removed entry keeps its row, hidden);
- only a member of an open class posts to it, under the nickname they joined with;
- every write is one transaction; concurrent posts wait for each other (SQLite's file lock,
  PostgreSQL's row locks) and none is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from siamese_core.i18n import N_, _

# the board's records, errors and checks live in siamese_core/serving/board_records.py
from siamese_core.serving.board_records import (
    ALREADY_POSTED,
    CLASS_NAME_MAX,
    NICKNAME_MAX,
    SOLO_PREFIX,
    BoardError,
    BoardUnavailable,
    ClassInfo,
    Entry,
    Posted,
    RunFacts,
    SchemaTooNew,
    clean_code,
    clean_nickname,
    finite_number,
    new_code,
    shown,
)

SCHEMA_VERSION = 1

metadata = sa.MetaData()
meta_table = sa.Table(
    "board_meta",
    metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)
classes_table = sa.Table(
    "board_classes",
    metadata,
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(CLASS_NAME_MAX), nullable=False),
    sa.Column("solo", sa.Boolean, nullable=False, default=False),
    sa.Column("opened_at", sa.Float, nullable=False),
    sa.Column("closed_at", sa.Float, nullable=True),
)
members_table = sa.Table(
    "board_members",
    metadata,
    sa.Column("class_code", sa.String(40), sa.ForeignKey("board_classes.code"), primary_key=True),
    sa.Column("student", sa.String(64), primary_key=True),
    sa.Column("nickname", sa.String(NICKNAME_MAX), nullable=False),
    sa.Column("joined_at", sa.Float, nullable=False),
)
entries_table = sa.Table(
    "board_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("class_code", sa.String(40), sa.ForeignKey("board_classes.code"), nullable=False, index=True),
    sa.Column("run_id", sa.String(64), nullable=False, unique=True),
    sa.Column("student", sa.String(64), nullable=False),
    sa.Column("nickname", sa.String(NICKNAME_MAX), nullable=False),
    sa.Column("setup", sa.String(200), nullable=False),
    sa.Column("shared", sa.Boolean, nullable=False),
    sa.Column("parameters", sa.BigInteger, nullable=False),
    sa.Column("test_accuracy", sa.Float, nullable=False),
    sa.Column("auc", sa.Float, nullable=False),
    sa.Column("train_seconds", sa.Float, nullable=False),
    sa.Column("dataset", sa.String(60), nullable=False),
    sa.Column("source", sa.String(40), nullable=False),  # "Train page", "race"
    sa.Column("posted_at", sa.Float, nullable=False),
    sa.Column("removed_at", sa.Float, nullable=True),  # removed by the teacher: hidden, not re-postable
)


# ---- the board --------------------------------------------------------------------------------------------
class Board:
    """One database's board. Thread-safe (each call opens its own connection from the engine's
    pool); :meth:`ensure_schema` once before use."""

    def __init__(self, engine: sa.Engine, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.clock = clock
        if engine.dialect.name == "sqlite":
            _serialise_sqlite_writes(engine)

    # ---- schema ---------------------------------------------------------------------------------------
    def ensure_schema(self) -> int:
        """Create the tables on first use and record the schema version; refuse a database written
        by a newer version of the app. Safe when several servers start at once."""
        for attempt in range(3):
            try:
                with self._write() as conn:
                    version = _read_version(conn)
                    if version is None:
                        metadata.create_all(conn)
                        conn.execute(
                            sa.insert(meta_table).values(key="schema_version", value=str(SCHEMA_VERSION))
                        )
                        return SCHEMA_VERSION
                    if version > SCHEMA_VERSION:
                        raise SchemaTooNew(
                            _(
                                "The board's database was written by a newer Siamese Lab (schema {version}; "
                                "this one knows {known}). Update the app or use another database."
                            ).format(version=version, known=SCHEMA_VERSION)
                        )
                    # migrations from older versions go here, each in this transaction
                    return version
            except SchemaTooNew:
                raise
            except BoardUnavailable:
                if attempt == 2:
                    raise
                time.sleep(0.2)  # another server created the tables at the same moment: read again
        raise AssertionError("unreachable")

    # ---- classes --------------------------------------------------------------------------------------
    def open_class(self, name: str) -> ClassInfo:
        """A new class with a fresh code (what the teacher shows the room)."""
        # an empty name: "Class" in the teacher's language, stored as the class's name
        name = " ".join(str(name).split())[:CLASS_NAME_MAX] or _("Class")
        if not name.isprintable():
            raise BoardError(_("A class name can only contain printable characters."))
        for _attempt in range(10):
            code = new_code()
            try:
                with self._write() as conn:
                    now = self.clock()
                    conn.execute(
                        sa.insert(classes_table).values(code=code, name=name, solo=False, opened_at=now)
                    )
                return ClassInfo(code, name, False, now, None)
            except BoardUnavailable as error:
                if not isinstance(error.__cause__, sa_exc.IntegrityError):
                    raise
        raise BoardUnavailable(_("Could not find a free class code; try again."))

    def solo_class(self, student: str) -> ClassInfo:
        """A student's own board (no teacher, e.g. alone on a laptop): created on first use."""
        code = SOLO_PREFIX + student[:32]
        try:
            return self.class_info(code)  # every later page run: a read, no write lock
        except BoardUnavailable:
            raise
        except BoardError:
            pass
        with self._write() as conn:
            row = conn.execute(sa.select(classes_table).where(classes_table.c.code == code)).first()
            if row is None:
                conn.execute(
                    sa.insert(classes_table).values(
                        code=code, name="Your own board", solo=True, opened_at=self.clock()
                    )
                )
        return self.class_info(code)

    def class_info(self, code: str) -> ClassInfo:
        with self._read() as conn:
            row = conn.execute(sa.select(classes_table).where(classes_table.c.code == code)).first()
        if row is None:
            raise BoardError(
                _("No class has the code {code}: check it with your teacher.").format(code=shown(code))
            )
        return ClassInfo(row.code, row.name, bool(row.solo), row.opened_at, row.closed_at)

    def classes(self, include_closed: bool = True) -> list[ClassInfo]:
        """The teacher's classes, newest first (students' own boards excluded)."""
        query = sa.select(classes_table).where(classes_table.c.solo.is_(False))
        if not include_closed:
            query = query.where(classes_table.c.closed_at.is_(None))
        with self._read() as conn:
            rows = conn.execute(query.order_by(classes_table.c.opened_at.desc())).all()
        return [ClassInfo(r.code, r.name, bool(r.solo), r.opened_at, r.closed_at) for r in rows]

    def close_class(self, code: str) -> None:
        with self._write() as conn:
            conn.execute(
                sa.update(classes_table)
                .where(classes_table.c.code == code, classes_table.c.closed_at.is_(None))
                .values(closed_at=self.clock())
            )

    def reopen_class(self, code: str) -> None:
        with self._write() as conn:
            conn.execute(sa.update(classes_table).where(classes_table.c.code == code).values(closed_at=None))

    # ---- members -------------------------------------------------------------------------------------
    def join(self, raw_code: str, student: str, raw_nickname: str) -> ClassInfo:
        """Join an open class under a nickname (unique in the class); joining again renames."""
        code = clean_code(raw_code)
        nickname = clean_nickname(raw_nickname)
        with self._write() as conn:
            row = conn.execute(sa.select(classes_table).where(classes_table.c.code == code)).first()
            if row is None or row.solo:
                raise BoardError(
                    _("No class has the code {code}: check it with your teacher.").format(code=code)
                )
            if row.closed_at is not None:
                raise BoardError(
                    _("The class {code} is closed: ask your teacher for the code of an open class.").format(
                        code=code
                    )
                )
            taken = conn.execute(
                sa.select(members_table.c.student).where(
                    members_table.c.class_code == code,
                    sa.func.lower(members_table.c.nickname) == nickname.lower(),
                    members_table.c.student != student,
                )
            ).first()
            if taken is not None:
                raise BoardError(
                    _("Someone in this class already uses the nickname {nickname}: pick another.").format(
                        nickname=shown(nickname)
                    )
                )
            where = (members_table.c.class_code == code) & (members_table.c.student == student)
            if conn.execute(sa.select(members_table.c.student).where(where)).first() is None:
                conn.execute(
                    sa.insert(members_table).values(
                        class_code=code, student=student, nickname=nickname, joined_at=self.clock()
                    )
                )
            else:  # joining again renames, and makes this the class the student is in now
                conn.execute(
                    sa.update(members_table).where(where).values(nickname=nickname, joined_at=self.clock())
                )
                conn.execute(
                    sa.update(entries_table)
                    .where(entries_table.c.class_code == code, entries_table.c.student == student)
                    .values(nickname=nickname)
                )
        return ClassInfo(row.code, row.name, False, row.opened_at, row.closed_at)

    def joined_class(self, student: str) -> tuple[ClassInfo, str] | None:
        """The open class this student joined last, and their nickname there: kept by student
        id in the database, so a reload, a new tab or the teacher's link finds it again."""
        query = (
            sa.select(classes_table, members_table.c.nickname)
            .join(members_table, members_table.c.class_code == classes_table.c.code)
            .where(
                members_table.c.student == student,
                classes_table.c.solo.is_(False),
                classes_table.c.closed_at.is_(None),
            )
            .order_by(members_table.c.joined_at.desc())
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return ClassInfo(row.code, row.name, False, row.opened_at, row.closed_at), row.nickname

    def nickname(self, code: str, student: str) -> str | None:
        with self._read() as conn:
            return conn.execute(
                sa.select(members_table.c.nickname).where(
                    members_table.c.class_code == code, members_table.c.student == student
                )
            ).scalar()

    def nicknames(self, students: list[str]) -> dict[str, str]:
        """student id -> their latest nickname in any class (the teacher's view of the queue)."""
        if not students:
            return {}
        with self._read() as conn:
            rows = conn.execute(
                sa.select(members_table.c.student, members_table.c.nickname)
                .where(members_table.c.student.in_(students))
                .order_by(members_table.c.joined_at)
            ).all()
        return {row.student: row.nickname for row in rows}

    # ---- entries -------------------------------------------------------------------------------------
    def post(self, code: str, student: str, facts: RunFacts, nickname: str | None = None) -> int:
        """Post a finished run to a class the student joined (their own board takes a nickname
        with the post). Returns the entry id; a BoardError says why not."""
        values = _checked(facts)
        with self._write() as conn:
            row = conn.execute(sa.select(classes_table).where(classes_table.c.code == code)).first()
            if row is None:
                raise BoardError(_("No class has the code {code}.").format(code=shown(code)))
            if row.closed_at is not None:
                raise BoardError(
                    _("The class {code} is closed: the board takes no more runs.").format(code=code)
                )
            if row.solo:
                if code != SOLO_PREFIX + student[:32]:
                    raise BoardError(_("This is another student's own board: you cannot post to it."))
                shown_as = clean_nickname(nickname or "me")
            else:
                shown_as = conn.execute(
                    sa.select(members_table.c.nickname).where(
                        members_table.c.class_code == code, members_table.c.student == student
                    )
                ).scalar()
                if shown_as is None:
                    raise BoardError(
                        _("Join the class {code} with its code before posting to its board.").format(
                            code=code
                        )
                    )
            already = conn.execute(
                sa.select(entries_table.c.id).where(entries_table.c.run_id == facts.run_id)
            ).first()
            if already is not None:
                raise BoardError(_(ALREADY_POSTED))
            try:
                result = conn.execute(
                    sa.insert(entries_table).values(
                        class_code=code, student=student, nickname=shown_as, posted_at=self.clock(), **values
                    )
                )
            except sa_exc.IntegrityError as error:  # the same run posted from two tabs at once
                raise BoardError(_(ALREADY_POSTED)) from error
            return int(result.inserted_primary_key[0])

    def posted(self, run_ids: list[str]) -> dict[str, Posted]:
        """Which of these runs were posted (removed ones included: a run is posted once): run id ->
        the board it went to (maybe not the one shown), and whether the teacher removed it."""
        if not run_ids:
            return {}
        query = sa.select(
            entries_table.c.run_id, entries_table.c.class_code, entries_table.c.removed_at
        ).where(entries_table.c.run_id.in_(run_ids))
        with self._read() as conn:
            return {
                row.run_id: Posted(row.class_code, row.removed_at is not None) for row in conn.execute(query)
            }

    def entries(self, code: str) -> list[Entry]:
        """The class's entries, oldest first; removed ones are not shown."""
        query = (
            sa.select(entries_table)
            .where(entries_table.c.class_code == code, entries_table.c.removed_at.is_(None))
            .order_by(entries_table.c.id)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [
            Entry(
                r.id,
                r.class_code,
                r.nickname,
                r.student,
                r.setup,
                bool(r.shared),
                int(r.parameters),
                r.test_accuracy,
                r.auc,
                r.train_seconds,
                r.dataset,
                r.source,
                r.posted_at,
            )
            for r in rows
        ]

    def remove(self, code: str, entry_id: int) -> bool:
        """The teacher removes one entry: hidden from the board, and its run cannot come back."""
        with self._write() as conn:
            result = conn.execute(
                sa.update(entries_table)
                .where(
                    entries_table.c.class_code == code,
                    entries_table.c.id == int(entry_id),
                    entries_table.c.removed_at.is_(None),
                )
                .values(removed_at=self.clock())
            )
            return result.rowcount == 1

    def clear(self, code: str) -> int:
        """The teacher clears the class's board; returns how many entries went."""
        with self._write() as conn:
            result = conn.execute(
                sa.update(entries_table)
                .where(entries_table.c.class_code == code, entries_table.c.removed_at.is_(None))
                .values(removed_at=self.clock())
            )
            return result.rowcount

    # ---- connections ---------------------------------------------------------------------------------
    def _write(self):
        return _Guarded(self.engine.execution_options(board_write=True).begin, write=True)

    def _read(self):
        return _Guarded(self.engine.connect, write=False)


def _checked(facts: RunFacts) -> dict:
    if not facts.run_id or len(facts.run_id) > 64:
        raise BoardError(_("This run has no id: only runs finished in this session can be posted."))
    return {
        "run_id": facts.run_id,
        "setup": str(facts.setup)[:200],
        "shared": bool(facts.shared),
        "parameters": int(finite_number(N_("parameter count"), facts.parameters, 1, 1e12)),
        "test_accuracy": finite_number(N_("test pair accuracy"), facts.test_accuracy, 0.0, 1.0),
        "auc": finite_number("AUC", facts.auc, 0.0, 1.0),
        "train_seconds": finite_number(N_("training time"), facts.train_seconds, 0.0, 1e7),
        "dataset": str(facts.dataset)[:60],
        "source": str(facts.source)[:40],
    }


def _serialise_sqlite_writes(engine: sa.Engine) -> None:
    """SQLite: a write transaction takes the file's write lock when it begins (BEGIN IMMEDIATE),
    so a check-then-insert is atomic, and waits up to 30 s for another writer instead of
    failing: thirty posts at once queue up and all land. Reads keep a plain BEGIN (a
    read-only file still shows its board)."""
    if not sa.event.contains(engine, "connect", _sqlite_connect):
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)


def _sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # the driver's own implicit BEGIN off: ours below
    dbapi_connection.execute("PRAGMA busy_timeout = 30000")
    dbapi_connection.execute("PRAGMA foreign_keys = ON")


def _sqlite_begin(connection) -> None:
    immediate = connection.get_execution_options().get("board_write")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _read_version(conn) -> int | None:
    if not sa.inspect(conn).has_table(meta_table.name):
        return None
    value = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).scalar()
    return int(value) if value is not None else None


class _Guarded:
    """A connection (a transaction when writing) whose database errors become one sentence.
    BoardErrors raised inside pass through unchanged."""

    def __init__(self, opener, write: bool):
        self.opener, self.write = opener, write

    def __enter__(self):
        try:
            self._context = self.opener()
            return self._context.__enter__()
        except sa_exc.SQLAlchemyError as error:
            raise BoardUnavailable(unavailable_sentence(error)) from error

    def __exit__(self, kind, error, trace):
        try:
            self._context.__exit__(kind, error, trace)
        except sa_exc.SQLAlchemyError as exit_error:
            raise BoardUnavailable(unavailable_sentence(exit_error)) from exit_error
        if isinstance(error, sa_exc.SQLAlchemyError):
            raise BoardUnavailable(unavailable_sentence(error)) from error
        return False


def unavailable_sentence(error: BaseException) -> str:
    """One sentence for a database error (the driver's own message kept, in brackets, as code)."""
    text = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200]
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        sentence = _(
            "The class board is unavailable: the database is read-only (`{error}`). Training and the other "
            "pages work as usual."
        )
    elif isinstance(error, sa_exc.IntegrityError):
        sentence = _(
            "The class board is unavailable: the database refused a duplicate (`{error}`). Training and the "
            "other pages work as usual."
        )
    elif isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        sentence = _(
            "The class board is unavailable: the database cannot be reached (`{error}`). Training and the "
            "other pages work as usual."
        )
    else:
        sentence = _(
            "The class board is unavailable: the database gave an error (`{error}`). Training and the other "
            "pages work as usual."
        )
    return sentence.format(error=text.replace("`", "'"))  # the driver's words, as code: kept as it says them

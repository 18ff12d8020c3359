"""Engine and session set-up, and migration to the latest schema on start."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ledger.errors import Unavailable
from ledger.paths import PROJECT_ROOT
from ledger.storage import partitions

if TYPE_CHECKING:
    from alembic.config import Config


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"


def make_engine(url: str) -> Engine:
    """Engine with the settings that make an acknowledged write durable."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            # WAL with synchronous=FULL: a committed transaction survives power loss.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    # No pre-ping: it costs a round trip on every checkout (a third of a release's record
    # read). A pooled connection that died (server restart) fails its first statement
    # instead; SQLAlchemy then discards the whole pool, that one request is refused with
    # a 503 like any database failure, and the next one connects afresh (tested).
    return create_engine(url, pool_size=10, max_overflow=20)


def alembic_config(url: str) -> Config:
    """Alembic's configuration for `url`. Alembic is imported here, not at the top: with
    Mako and Pygments it is a tenth of an API process's start, and only a migration needs it."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the schema to the latest migration, then its partitions up to date (both idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")
    if url.startswith("postgresql"):
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                partitions.maintain(conn)
        finally:
            engine.dispose()


@contextmanager
def _reported() -> Iterator[None]:
    """SQLAlchemy's errors as `DatabaseUnavailable`: the caller fails closed (503)."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"database error: {exc.__class__.__name__}: {exc}") from exc


class Database:
    """The database as the services see it: sessions that roll back unless committed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit_sessions = sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        with _reported(), self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def autocommit_session(self) -> Iterator[Session]:
        """A session in which every statement stands alone, with no BEGIN and no COMMIT.

        For a read that is one statement on a hot path (the release path's record read):
        it saves two round trips. Never for writes that must be atomic together.
        """
        with _reported(), self._autocommit_sessions() as session:
            yield session

    def standing_session(self) -> StandingSession:
        """An autocommit session that a worker keeps across its batches (see `StandingSession`)."""
        return StandingSession(self._autocommit_sessions)

    def ping(self) -> str:
        """Revision of the schema, or raises `DatabaseUnavailable`."""
        try:
            with self.engine.connect() as conn:
                return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(f"database unavailable: {exc.__class__.__name__}") from exc


class StandingSession:
    """One autocommit session, and its pooled connection, kept by a worker between batches.

    Why: a session opened per batch costs a pool checkout and return, the session's
    transaction bookkeeping and its close, about as much CPU as the release path's record
    read itself (measured on the release bench at one request at a time). A worker
    thread that handles batch after batch keeps one instead. Being autocommit, it holds
    no transaction between uses; objects loaded through it are expunged after each use,
    so nothing read once is served stale later. After any error the session is closed
    (an invalidated connection goes back to the pool, which replaces it) and the next use
    opens a fresh one. Uses take turns: one thread at a time.
    """

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._session: Session | None = None
        self._lock = threading.Lock()

    @contextmanager
    def use(self) -> Iterator[Session]:
        with self._lock, _reported():
            if self._session is None:
                self._session = self._factory()
            try:
                yield self._session
            except BaseException:
                self._close()
                raise
            self._session.expunge_all()

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            with contextlib.suppress(SQLAlchemyError):  # closing after a failure may fail too
                session.close()

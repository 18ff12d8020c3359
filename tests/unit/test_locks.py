"""Who holds a lock is read from the lock itself: a SQLite database's lock file names its holder
only while it is locked, so a holder that died is never named."""

from __future__ import annotations

from pathlib import Path

from ledger.storage.database import Database
from ledger.storage.locks import FileLock, anchor_lock, holder_tag, lock_holder


def test_the_holder_is_named_while_it_holds_and_never_after(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'ledger.db'}")
    assert lock_holder(db, "credit-records") is None  # never taken: no file yet
    lock = anchor_lock(db, "credit-records")
    assert isinstance(lock, FileLock) and lock.acquire()
    assert lock_holder(db, "credit-records") == holder_tag()
    assert lock_holder(db, "access-trail") is None  # another lock, another holder
    lock.release()
    assert lock_holder(db, "credit-records") is None  # the file still names it; nobody holds it
    assert Path(f"{tmp_path / 'ledger.db'}.anchor-credit-records.lock").read_text() == holder_tag()


def test_a_tag_fits_postgresqls_application_name() -> None:
    host, pid = holder_tag().rsplit(":", 1)
    assert len(holder_tag()) <= 63 and int(pid) > 0 and host

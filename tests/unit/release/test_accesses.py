"""Who read my data, on SQLite: each member sees the access-trail entries it may, with proofs.

An enterprise sees the releases of its own data and must name it; an institution its own
releases, never another's; operators and auditors everything; anyone else nothing. An
entry carries its inclusion proof once a checkpoint covers it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_utils import to_checksum_address
from sqlalchemy import text

from ledger.chain.membership import InstitutionKind, Member, Role, Status, uscc_hash
from ledger.domain.catalogue import default_catalogue
from ledger.domain.log_names import ACCESS_TRAIL_LOG
from ledger.errors import NotAuthorized, NotFound, Unavailable
from ledger.logs.bundles import ProofBundles
from ledger.logs.leaves import decode_leaf
from ledger.logs.proofs import LogProofs, NotYetAnchored, record_checkpoint
from ledger.logs.store import open_for_append
from ledger.merkle.rfc9162 import root, verify_inclusion
from ledger.records.samples import sample_uscc
from ledger.release.accesses import AccessesService, entry_names
from ledger.release.models import AccessRelease
from ledger.release.trail import AccessTrail, TrailEntry
from ledger.storage.database import Database

BANK, INSURER = "0x" + "b1" * 20, "0x" + "b2" * 20
ACME, OTHER = sample_uscc(0), sample_uscc(1)
CHAIN_ID = 31337
CHECKPOINTS = "0x" + "cc" * 20
#: (institution, subject) of entries 0..4
RELEASES = [(BANK, ACME), (INSURER, ACME), (BANK, OTHER), (INSURER, OTHER), (BANK, ACME)]


def member(role: Role, account: str = "0x" + "0e" * 20, uscc: str | None = None) -> Member:
    return Member(
        account,
        role,
        Status.ACTIVE,
        InstitutionKind.NONE,
        1,
        bytes(32),
        uscc_hash(uscc) if uscc else bytes(32),
    )


class RefusingWatch:
    """A chain watch that finds the chain behind: no proof may be served."""

    def require_current(self) -> None:
        raise Unavailable("the chain is behind")


def service(db: Database, watch: object = None) -> AccessesService:
    bundles = ProofBundles(
        LogProofs(db, watch=watch),  # type: ignore[arg-type]
        chain_id=CHAIN_ID,
        checkpoints_contract=CHECKPOINTS,
    )
    return AccessesService(db, bundles=bundles, catalogue=default_catalogue())


@pytest.fixture
def trail(sqlite_db: Database) -> Iterator[list[bytes]]:
    """The five releases of `RELEASES` on the trail; their leaf hashes."""
    trail = AccessTrail(sqlite_db)
    entries = [
        TrailEntry(
            {"institution": i, "subject": s, "released_at": "2027-01-15T08:00:00+00:00", "n": n}, i, f"n{n}"
        )
        for n, (i, s) in enumerate(RELEASES)
    ]
    try:
        with trail.transaction() as tx:
            tx.spend_nonces([(e.signer, e.nonce) for e in entries])()
            appended = tx.append(entries)
    finally:
        trail.close()
    yield [a.leaf_hash for a in appended]


def seen(db: Database, who: Member, **kwargs: object) -> list[int]:
    return [a.index for a in service(db).visible_to(who, **kwargs)]  # type: ignore[arg-type]


def test_an_enterprise_sees_the_releases_of_its_own_data_only(
    trail: list[bytes], sqlite_db: Database
) -> None:
    acme = member(Role.ENTERPRISE, uscc=ACME)
    found = service(sqlite_db).visible_to(acme, subject=ACME)
    assert [a.index for a in found] == [0, 1, 4]
    assert [a.entry for a in found] == [
        {"institution": i, "subject": s, "released_at": "2027-01-15T08:00:00+00:00", "n": n}
        for n, (i, s) in enumerate(RELEASES)
        if s == ACME
    ]
    for subject in (None, OTHER):
        with pytest.raises(NotAuthorized) as refused:
            service(sqlite_db).visible_to(acme, subject=subject)
        assert refused.value.message == "an enterprise sees the releases of its own data only: name its USCC"


def test_an_institution_sees_its_own_releases_never_another(trail: list[bytes], sqlite_db: Database) -> None:
    assert seen(sqlite_db, member(Role.INSTITUTION, BANK)) == [0, 2, 4]
    assert seen(sqlite_db, member(Role.INSTITUTION, INSURER)) == [1, 3]
    assert seen(sqlite_db, member(Role.INSTITUTION, BANK), subject=OTHER) == [2]
    assert seen(sqlite_db, member(Role.INSTITUTION, "0x" + "b3" * 20)) == []


def test_operators_and_auditors_see_every_release(trail: list[bytes], sqlite_db: Database) -> None:
    for role in (Role.OPERATOR, Role.AUDITOR):
        assert seen(sqlite_db, member(role)) == [0, 1, 2, 3, 4]
        assert seen(sqlite_db, member(role), subject=ACME) == [0, 1, 4]


@pytest.mark.parametrize("role", [Role.NONE, Role.PROVIDER, Role.PLATFORM])
def test_any_other_member_sees_nothing(role: Role, trail: list[bytes], sqlite_db: Database) -> None:
    with pytest.raises(NotAuthorized) as refused:
        service(sqlite_db).visible_to(member(role), subject=ACME)
    assert refused.value.message == f"a {role.name.lower()} sees no access-trail entries"


def test_pages_start_after_an_index_and_hold_at_least_one_entry(
    trail: list[bytes], sqlite_db: Database
) -> None:
    operator = member(Role.OPERATOR)
    assert seen(sqlite_db, operator, after=1) == [2, 3, 4]
    assert seen(sqlite_db, operator, after=0, limit=2) == [1, 2]
    assert seen(sqlite_db, operator, limit=0) == [0]
    assert seen(sqlite_db, operator, after=4) == []
    assert seen(sqlite_db, member(Role.ENTERPRISE, uscc=ACME), subject=ACME, after=0, limit=1) == [1]


def test_an_entry_carries_its_inclusion_proof_once_a_checkpoint_covers_it(
    trail: list[bytes], sqlite_db: Database
) -> None:
    operator = member(Role.OPERATOR)
    assert [a.proof for a in service(sqlite_db).visible_to(operator)] == [None] * 5
    anchored = root(trail[:3])
    with sqlite_db.session() as session:
        record_checkpoint(session, ACCESS_TRAIL_LOG, 3, anchored, b"\x7a" * 32, 99)
    found = service(sqlite_db).visible_to(operator)
    assert [a.proof is None for a in found] == [False, False, False, True, True]
    for access in found[:3]:
        proof = access.proof
        assert proof is not None
        assert (proof["chain_id"], proof["checkpoints_contract"]) == (
            CHAIN_ID,
            to_checksum_address(CHECKPOINTS),
        )
        assert (proof["index"], proof["tree_size"], proof["root"]) == (access.index, 3, "0x" + anchored.hex())
        assert proof["anchor"] == {"transaction": "0x" + "7a" * 32, "block": 99}
        path = [bytes.fromhex(h[2:]) for h in proof["inclusion_proof"]]
        verify_inclusion(trail[access.index], access.index, 3, path, anchored)


def test_no_proof_is_served_while_the_chain_watch_finds_the_chain_behind(
    trail: list[bytes], sqlite_db: Database
) -> None:
    with pytest.raises(Unavailable, match="the chain is behind"):
        service(sqlite_db, RefusingWatch()).visible_to(member(Role.OPERATOR))


def test_a_page_holds_a_hundred_entries_unless_asked_otherwise(sqlite_db: Database) -> None:
    trail = AccessTrail(sqlite_db)
    entries = [
        TrailEntry(
            {"institution": BANK, "subject": ACME, "released_at": "2027-01-15T08:00:00+00:00"}, BANK, f"n{n}"
        )
        for n in range(102)
    ]
    try:
        with trail.transaction() as tx:
            tx.spend_nonces([(e.signer, e.nonce) for e in entries])()
            tx.append(entries)
    finally:
        trail.close()
    assert seen(sqlite_db, member(Role.OPERATOR)) == list(range(100))
    assert seen(sqlite_db, member(Role.OPERATOR), limit=101) == list(range(101))


def test_only_the_access_trail_leaves_are_served(trail: list[bytes], sqlite_db: Database) -> None:
    with sqlite_db.session() as session:  # another log with entries at the same positions, written after
        writer = open_for_append(session, "zz-other-log")
        writer.append([("other", {"secret": n}) for n in range(len(RELEASES))])
    entries = [a.entry for a in service(sqlite_db).visible_to(member(Role.OPERATOR))]
    assert [(e["institution"], e["subject"]) for e in entries] == RELEASES


@pytest.fixture
def unindexed(trail: list[bytes], sqlite_db: Database) -> Iterator[None]:
    """The trail's index rows stored newest first in a table with no index at all (as after
    a restore that left the indexes out): only the page query's own ORDER BY puts them in
    seq order. The real table is put back afterwards."""
    with sqlite_db.engine.begin() as conn:
        conn.execute(
            text("CREATE TABLE access_releases_bare AS SELECT * FROM access_releases ORDER BY seq DESC")
        )
        conn.execute(text("DROP TABLE access_releases"))
        conn.execute(text("ALTER TABLE access_releases_bare RENAME TO access_releases"))
        stored = [row[0] for row in conn.execute(text("SELECT seq FROM access_releases"))]
    assert stored == [4, 3, 2, 1, 0]  # a scan meets them newest first
    try:
        yield
    finally:
        with sqlite_db.engine.begin() as conn:
            conn.execute(text("DROP TABLE access_releases"))
        AccessRelease.__table__.create(sqlite_db.engine)  # type: ignore[attr-defined]


def test_a_page_is_in_seq_order_however_the_rows_are_stored(unindexed: None, sqlite_db: Database) -> None:
    operator = member(Role.OPERATOR)
    assert seen(sqlite_db, operator) == [0, 1, 2, 3, 4]
    assert seen(sqlite_db, operator, limit=2) == [0, 1]
    assert seen(sqlite_db, operator, after=1, limit=2) == [2, 3]
    assert seen(sqlite_db, member(Role.INSTITUTION, BANK), limit=2) == [0, 2]
    assert seen(sqlite_db, member(Role.ENTERPRISE, uscc=ACME), subject=ACME, limit=2) == [0, 1]


def test_a_single_entrys_proof_goes_to_who_may_see_it(trail: list[bytes], sqlite_db: Database) -> None:
    """Entry 1 is the insurer's release of ACME's data: the insurer, ACME, operators and
    auditors get its bundle; the bank, another enterprise and a provider do not, each
    refusal naming who and which entry; an entry that does not exist is refused as well
    to all but operators and auditors (who learn it does not exist)."""
    anchored = root(trail[:3])
    with sqlite_db.session() as session:
        record_checkpoint(session, ACCESS_TRAIL_LOG, 3, anchored, b"\x7a" * 32, 99)
    accesses = service(sqlite_db)
    allowed = [
        member(Role.INSTITUTION, INSURER),
        member(Role.ENTERPRISE, uscc=ACME),
        member(Role.OPERATOR),
        member(Role.AUDITOR),
    ]
    for who in allowed:
        bundle = accesses.proof(who, 1)
        assert (bundle["index"], bundle["tree_size"], bundle["root"]) == (1, 3, "0x" + anchored.hex())
        path = [bytes.fromhex(h[2:]) for h in bundle["inclusion_proof"]]
        verify_inclusion(trail[1], 1, 3, path, anchored)
    for who in (member(Role.INSTITUTION, BANK), member(Role.ENTERPRISE, uscc=OTHER)):
        with pytest.raises(NotAuthorized, match=f"^{who.account} may not see access-trail entry 1$"):
            accesses.proof(who, 1)
    with pytest.raises(NotAuthorized, match=f"^{BANK} may not see access-trail entry 99$"):
        accesses.proof(member(Role.INSTITUTION, BANK), 99)
    # not yet anchored: entry 4 (the bank's), to the bank and to an operator
    for who in (member(Role.INSTITUTION, BANK), member(Role.OPERATOR)):
        with pytest.raises(NotYetAnchored):
            accesses.proof(who, 4)
    with pytest.raises(NotFound, match=r"^log access-trail has no entry 99$"):
        accesses.proof(member(Role.OPERATOR), 99)  # an operator may ask of any index


def test_an_entry_is_served_as_logged_with_its_masks_named_beside_it(sqlite_db: Database) -> None:
    catalogue = default_catalogue()
    tax, social = catalogue.category_mask(["tax"]), catalogue.category_mask(["social_insurance"])
    payload = {
        "institution": BANK, "subject": ACME, "released_at": "2027-01-15T08:00:00+00:00",
        "categories": str(tax | social), "purpose": str(catalogue.purpose_mask(["credit_assessment"])),
        "raw_categories": str(tax), "request": {"categories": str(tax | social)},
    }  # fmt: skip
    trail = AccessTrail(sqlite_db)
    try:
        with trail.transaction() as tx:
            tx.spend_nonces([(BANK, "n0")])()
            (appended,) = tx.append([TrailEntry(payload, BANK, "n0")])
    finally:
        trail.close()
    (access,) = service(sqlite_db).visible_to(member(Role.AUDITOR))
    assert access.entry == payload  # the masks stay as logged: the leaf, and so its hash, unchanged
    assert access.names.categories == ["tax", "social_insurance"]
    assert (access.names.purpose, access.names.raw_categories) == (["credit_assessment"], ["tax"])
    assert decode_leaf(appended.leaf).payload == payload and b"names" not in appended.leaf


def test_a_timeline_page_is_the_newest_entries_below_an_index(
    trail: list[bytes], sqlite_db: Database
) -> None:
    """The portal's "who read my data" pages newest first: the entries below `before`, as
    many as asked, each member still held to what it may see (whatever the rows' order)."""
    operator, acme = member(Role.OPERATOR), member(Role.ENTERPRISE, uscc=ACME)
    assert seen(sqlite_db, operator, newest_first_before=2**63 - 1) == [4, 3, 2, 1, 0]
    assert seen(sqlite_db, operator, newest_first_before=4, limit=2) == [3, 2]
    assert seen(sqlite_db, operator, newest_first_before=0) == []
    assert seen(sqlite_db, acme, subject=ACME, newest_first_before=4) == [1, 0]
    assert seen(sqlite_db, member(Role.INSTITUTION, INSURER), newest_first_before=5, limit=1) == [3]
    assert seen(sqlite_db, operator, subject=OTHER, newest_first_before=5) == [3, 2]


def test_a_timeline_page_newest_first_however_the_rows_are_stored(
    unindexed: None, sqlite_db: Database
) -> None:
    with sqlite_db.engine.begin() as conn:  # stored oldest first this time: only ORDER BY ... DESC reverses
        conn.execute(text("CREATE TABLE access_releases_asc AS SELECT * FROM access_releases ORDER BY seq"))
        conn.execute(text("DROP TABLE access_releases"))
        conn.execute(text("ALTER TABLE access_releases_asc RENAME TO access_releases"))
    assert seen(sqlite_db, member(Role.OPERATOR), newest_first_before=5, limit=2) == [4, 3]


def test_a_page_without_proofs_has_none_and_the_anchored_size_tells_which_have_one(
    trail: list[bytes], sqlite_db: Database
) -> None:
    """A timeline asks for no inclusion proofs: every entry comes without one, and the
    latest checkpoint's size tells which could have one (0 before any checkpoint)."""
    operator = member(Role.OPERATOR)
    assert service(sqlite_db).anchored_size() == 0
    with sqlite_db.session() as session:
        record_checkpoint(session, ACCESS_TRAIL_LOG, 3, root(trail[:3]), b"\x7a" * 32, 99)
    accesses = service(sqlite_db)
    assert accesses.anchored_size() == 3
    assert [a.proof for a in accesses.visible_to(operator, with_proofs=False)] == [None] * 5
    assert [a.proof is None for a in accesses.visible_to(operator)] == [False, False, False, True, True]


def test_masks_missing_or_not_decimal_text_are_named_as_nothing(sqlite_db: Database) -> None:
    """An entry whose masks are absent, numbers or not decimal text is shown as logged with
    no names beside it (the names are for reading, never a reason to refuse the entry)."""
    at = "2027-01-15T08:00:00+00:00"
    payload = {"institution": BANK, "subject": ACME, "released_at": at, "categories": 3, "purpose": "0x1",
               "raw_categories": "-1"}  # fmt: skip
    bare = {"institution": BANK, "subject": ACME, "released_at": at}
    trail = AccessTrail(sqlite_db)
    try:
        with trail.transaction() as tx:
            tx.spend_nonces([(BANK, "n0"), (BANK, "n1")])()
            tx.append([TrailEntry(payload, BANK, "n0"), TrailEntry(bare, BANK, "n1")])
    finally:
        trail.close()
    found = service(sqlite_db).visible_to(member(Role.AUDITOR))
    assert [a.entry for a in found] == [payload, bare]
    for access in found:
        assert (access.names.categories, access.names.purpose, access.names.raw_categories) == ([], [], [])


def test_an_entrys_masks_are_named_in_the_language_asked() -> None:
    """The portal's timeline names each mask in the reader's language; without one, the
    catalogue's own names, as data carries them."""
    catalogue = default_catalogue()
    tax, social = catalogue.category("tax"), catalogue.category("social_insurance")
    purpose = catalogue.purpose("credit_assessment")
    payload = {
        "categories": str(catalogue.category_mask(["tax", "social_insurance"])),
        "purpose": str(catalogue.purpose_mask(["credit_assessment"])),
        "raw_categories": str(catalogue.category_mask(["tax"])),
    }
    named = {locale: entry_names(catalogue, payload, locale=locale) for locale in ("zh-CN", "en", None)}
    for locale, (t, s, p) in {
        "zh-CN": (tax.name_zh, social.name_zh, purpose.name_zh),
        "en": (tax.name_en, social.name_en, purpose.name_en),
        None: ("tax", "social_insurance", "credit_assessment"),
    }.items():
        names = named[locale]
        assert (names.categories, names.purpose, names.raw_categories) == ([t, s], [p], [t]), locale
    assert tax.name_zh != tax.name_en != "tax" and purpose.name_zh != purpose.name_en != "credit_assessment"

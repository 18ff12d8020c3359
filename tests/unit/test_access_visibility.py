"""Who may see an access-trail entry: the one rule, `ledger.release.accesses.may_see`.

Operators and auditors see every entry (and are told when one does not exist); an
institution sees its own releases and never another's; an enterprise sees the releases
about it; no one else sees any, and a missing entry is as invisible as another's.
"""

from __future__ import annotations

import pytest

from ledger.chain.membership import InstitutionKind, Member, Role, Status, uscc_hash
from ledger.records.samples import sample_uscc
from ledger.release.accesses import may_see

INSTITUTION = "0x" + "11" * 20
OTHER_INSTITUTION = "0x" + "22" * 20
SUBJECT = sample_uscc(0)
OTHER_SUBJECT = sample_uscc(1)
ENTRY = {"institution": INSTITUTION, "subject": SUBJECT}


def _member(role: Role, account: str = "0x" + "33" * 20, uscc: str | None = None) -> Member:
    return Member(
        account=account,
        role=role,
        status=Status.ACTIVE,
        kind=InstitutionKind.BANK if role is Role.INSTITUTION else InstitutionKind.NONE,
        since=1,
        name_hash=bytes(32),
        uscc_hash=bytes(32) if uscc is None else uscc_hash(uscc),
    )


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.AUDITOR])
def test_operators_and_auditors_see_every_entry_even_a_missing_one(role: Role) -> None:
    assert may_see(_member(role), ENTRY)
    assert may_see(_member(role), {"institution": OTHER_INSTITUTION, "subject": OTHER_SUBJECT})
    assert may_see(_member(role), None)


def test_an_institution_sees_its_own_releases_only() -> None:
    assert may_see(_member(Role.INSTITUTION, INSTITUTION), ENTRY)
    assert not may_see(_member(Role.INSTITUTION, OTHER_INSTITUTION), ENTRY)
    assert not may_see(_member(Role.INSTITUTION, INSTITUTION), None)


def test_an_enterprise_sees_the_releases_about_it_only() -> None:
    assert may_see(_member(Role.ENTERPRISE, uscc=SUBJECT), ENTRY)
    assert not may_see(_member(Role.ENTERPRISE, uscc=OTHER_SUBJECT), ENTRY)
    assert not may_see(_member(Role.ENTERPRISE, uscc=SUBJECT), None)
    assert not may_see(_member(Role.ENTERPRISE, uscc=SUBJECT), {"institution": INSTITUTION, "subject": 7})


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.PLATFORM, Role.NONE])
def test_other_members_see_no_entry(role: Role) -> None:
    assert not may_see(_member(role, uscc=SUBJECT), ENTRY)
    assert not may_see(_member(role), None)


def test_holding_the_subjects_hash_is_not_enough_without_the_enterprise_role() -> None:
    assert not may_see(_member(Role.INSTITUTION, OTHER_INSTITUTION, uscc=SUBJECT), ENTRY)

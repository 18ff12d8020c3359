"""Synthetic, valid credit records for benchmarks, fault tests and demonstrations.

Deterministic from a seed, valid against the packaged catalogue, and deliberately full
of what must never reach the database in clear: resident ID numbers and mobile numbers.
Nothing here is real data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from ledger.domain.identifiers import organization_code_check_char, resident_id_check_char, uscc_check_char

__all__ = ["sample_mobile", "sample_record", "sample_records", "sample_resident_id", "sample_uscc"]

_REGIONS = ("410100", "410105", "110105", "440305", "350200", "310115")
_SURNAMES = "王李张刘陈杨赵黄周吴"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚"


def sample_uscc(n: int) -> str:
    """The n-th synthetic enterprise USCC (authority 9, enterprise, valid checks)."""
    region = _REGIONS[n % len(_REGIONS)]
    org = f"{(n * 7919 + 10_000_000) % 100_000_000:08d}"
    body = "91" + region + org + organization_code_check_char(org)
    return body + uscc_check_char(body)


def sample_resident_id(n: int) -> str:
    born = date(1960, 1, 1) + timedelta(days=(n * 37) % 15_000)
    body = f"{_REGIONS[n % len(_REGIONS)]}{born:%Y%m%d}{n % 1000:03d}"
    return body + resident_id_check_char(body)


def sample_mobile(n: int) -> str:
    return f"13{(n * 104_729 + 100_000_000) % 1_000_000_000:09d}"


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2)))


def sample_record(n: int, *, prefix: str = "REF", seed: int = 0) -> dict[str, Any]:
    """Record n: registration, administrative penalty or tax, with sensitive fields set."""
    rng = random.Random(seed * 1_000_003 + n)
    subject = sample_uscc(n // 3)
    when = date(2021, 1, 1) + timedelta(days=rng.randint(0, 1000))
    kind = n % 3
    if kind == 0:
        return {
            "category": "registration",
            "subject": subject,
            "event_date": when.isoformat(),
            "source_ref": f"{prefix}-{n:08d}",
            "fields": {
                "enterprise_name": f"郑州市样例{n}科技有限公司",
                "uscc": subject,
                "entity_type": "limited_liability_company",
                "legal_representative": _name(rng),
                "legal_representative_id": sample_resident_id(n),
                "registered_capital": rng.randint(1, 5000) * 10_000,
                "established_on": (when - timedelta(days=365)).isoformat(),
                "address": f"河南省郑州市金水区文化路{n % 300 + 1}号",
                "registration_authority": "郑州市市场监督管理局",
                "status": "in_business",
                "contact_mobile": sample_mobile(n),
            },
        }
    if kind == 1:
        return {
            "category": "administrative_penalty",
            "subject": subject,
            "event_date": when.isoformat(),
            "source_ref": f"{prefix}-{n:08d}",
            "severity": rng.choice(["minor", "general", "serious"]),
            "fields": {
                "decision_number": f"郑市监罚〔{when.year}〕{n}号",
                "decision_date": when.isoformat(),
                "authority": "郑州市市场监督管理局",
                "penalty_type": "fine",
                "violation": "虚假宣传",
                "reason": "在其网站发布与实际不符的产品功效宣传内容",
                "legal_basis": "《中华人民共和国反不正当竞争法》第二十条",
                "amount": rng.randint(1, 500) * 1000,
                "legal_representative": _name(rng),
                "legal_representative_id": sample_resident_id(n),
            },
        }
    return {
        "category": "tax",
        "subject": subject,
        "event_date": when.isoformat(),
        "source_ref": f"{prefix}-{n:08d}",
        "fields": {
            "tax_year": when.year - 1,
            "credit_grade": rng.choice(["A", "B", "M", "C", "D"]),
            "taxpayer_type": "general_taxpayer",
            "annual_tax_paid": rng.randint(1, 10_000) * 100,
            "tax_authority": "国家税务总局郑州市金水区税务局",
            "tax_officer_name": _name(rng),
            "tax_officer_mobile": sample_mobile(n),
        },
    }


def sample_records(
    count: int, *, start: int = 0, prefix: str = "REF", seed: int = 0
) -> Iterator[dict[str, Any]]:
    for n in range(start, start + count):
        yield sample_record(n, prefix=prefix, seed=seed)

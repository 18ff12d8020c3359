"""Every stored field of the MLPS audit records is escaped and capped, whatever it was given."""

from __future__ import annotations

import time

from ledger.services.audit_events import bounded


def test_short_clean_text_is_kept() -> None:
    assert bounded("GET /audit/header", 64) == "GET /audit/header"


def test_nul_control_format_and_surrogate_characters_are_escaped() -> None:
    assert bounded("a\x00b\x1b[2J\u200b\udc80\\", 64) == "a\\x00b\\x1b[2J\\u200b\\udc80\\\\"


def test_long_text_is_cut_to_the_cap_and_says_how_long_it_was() -> None:
    value = bounded("9" * 5000, 100)
    assert len(value) == 100 and value.endswith("…[5000 chars]")


def test_escaping_cannot_push_a_field_past_its_cap() -> None:
    value = bounded("\x00" * 60, 64)
    assert len(value) <= 64 and value.startswith("\\x00") and value.endswith("…[60 chars]")


def test_the_cost_follows_the_cap_not_the_value() -> None:
    huge = "\x00" * (20 * 1024 * 1024)
    start = time.perf_counter()
    assert len(bounded(huge, 2048)) <= 2048
    assert time.perf_counter() - start < 0.5

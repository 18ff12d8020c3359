"""Each access-trail leaf examined on its own: what is kept for a good leaf and for each kind of bad one."""

from __future__ import annotations

from ledger.audit.examine import (
    PARALLEL_FROM,
    Examination,
    Examined,
    _examine_rows,
    _from_row,
    _to_row,
    examine,
)
from ledger.audit.leaves import DecodedLeaf, parse_access
from ledger.audit.request_sig import RequestDomain
from ledger.logs.leaves import encode_leaf
from tests.unit.audit import world

SEPARATOR = RequestDomain(world.DEPLOYMENT.chain_id, world.ADDRESSES["Consents"]).separator
BANK = bytes.fromhex(world.BANK.address[2:])


def test_each_kind_of_leaf_is_examined_for_what_it_is() -> None:
    good = world.access_payload(0)
    forged = world.access_payload(1)
    forged["request"] = {**forged["request"], "signature": "0x" + "00" * 65}
    items = [
        (0, encode_leaf("access", 0, good)),
        (1, encode_leaf("access", 1, forged)),
        (2, encode_leaf("other", 7, {"x": 1})),
        (3, encode_leaf("access", 3, {**good, "block": -1})),
        (4, b"[]"),
    ]
    out = examine(SEPARATOR, items)
    assert out[0] == Examined(0, DecodedLeaf("access", 0, {}), None, parse_access(0, good), None, BANK)
    assert out[1].entry == parse_access(1, forged) and out[1].signer == "signature v is 0, not 27 or 28"
    assert out[2] == Examined(2, DecodedLeaf("other", 7, {}), None)
    assert out[3] == Examined(
        3, DecodedLeaf("access", 3, {}), None, payload_problem=("block", "a non-negative integer", "-1")
    )
    assert out[4] == Examined(4, None, "leaf is not a JSON object")


def test_the_signer_is_recovered_under_the_domain_given() -> None:
    items = [(0, encode_leaf("access", 0, world.access_payload(0)))]
    other = RequestDomain(1, world.ADDRESSES["Consents"]).separator
    signer = examine(other, items)[0].signer
    assert isinstance(signer, bytes) and signer != BANK


def test_rows_carry_every_field_across_processes() -> None:
    out = examine(SEPARATOR, [(i, leaf) for i, leaf in enumerate(world.access_leaves())] + [(3, b"x")])
    assert [_from_row(_to_row(x)) for x in out] == out


def test_a_workers_chunk_is_examined_into_rows_under_the_domain_given() -> None:
    """What each worker process runs (`Examination` submits it to the pool), called here in-process."""
    bad = encode_leaf("access", 4, {**world.access_payload(0), "block": -1})
    items = [(i, leaf) for i, leaf in enumerate(world.access_leaves())] + [(3, b"x"), (4, bad)]
    rows = _examine_rows(SEPARATOR, items)
    assert _from_row(rows[4]).payload_problem == ("block", "a non-negative integer", "-1")
    assert [_from_row(row) for row in rows] == examine(SEPARATOR, items)
    assert [row[-1] for row in rows[:3]] == [BANK] * 3


def test_a_short_trail_is_examined_inline_and_reports_its_count() -> None:
    items = [(i, leaf) for i, leaf in enumerate(world.access_leaves())]
    done: list[int] = []
    examination = Examination(items, SEPARATOR, workers=4)
    assert examination.results(done.append) == examine(SEPARATOR, items)
    assert done == [3]
    examination.close()
    assert Examination(items, SEPARATOR).results() == examine(SEPARATOR, items)
    assert PARALLEL_FROM == 4_000


def test_a_pool_is_used_from_parallel_from_leaves_with_more_than_one_worker_only() -> None:
    """Inline, `results` reports once; from a pool, once per chunk (1,000 leaves at least).

    The leaves are refused at once (as in the test below): what is tested is where the pool
    starts and how it reports, not the examination of each leaf (signed leaves cost 12 s
    here, and this test runs for every mutant of the leaf parser)."""
    items = [(i, b"x") for i in range(PARALLEL_FROM)]
    for workers, reports in ((1, [PARALLEL_FROM]), (2, [1_000] * 4)):
        done: list[int] = []
        assert len(Examination(items, SEPARATOR, workers=workers).results(done.append)) == PARALLEL_FROM
        assert done == reports
    done = []
    Examination(items, SEPARATOR).results(done.append)  # one worker unless asked
    assert done == [PARALLEL_FROM]
    done = []
    Examination(items[:-1], SEPARATOR, workers=2).results(done.append)
    assert done == [PARALLEL_FROM - 1]


def test_a_long_trail_is_cut_into_a_quarter_per_worker_each() -> None:
    """Past 8,000 leaves for two workers the chunks grow beyond 1,000: 8,800 leaves, 8 chunks of 1,100."""
    items = [(i, b"x") for i in range(8_800)]  # refused at once: the chunking is what is tested
    done: list[int] = []
    out = Examination(items, SEPARATOR, workers=2).results(done.append)
    assert done == [1_100] * 8
    assert [x.seq for x in out] == list(range(8_800)) and {x.leaf_problem for x in out} == {
        "leaf is not UTF-8 JSON"
    }


def test_closing_before_the_results_cancels_the_chunks_not_started() -> None:
    good = world.access_leaves()
    examination = Examination([(i, good[i % 3]) for i in range(8_800)], SEPARATOR, workers=2)
    examination.close()
    assert any(future.cancelled() for future in examination._futures)

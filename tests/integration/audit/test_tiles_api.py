"""The logs as C2SP tlog-tiles over HTTP, followed by a client that knows only the spec and the chain.

The client reads the checkpoint note (unsigned: no member key), checks its (size, root)
with the Checkpoints contract, rebuilds the root from the public tiles with the RFC 9162
reference, and checks every leaf of the auditor-only entry bundles against the tiles.
"""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient

from api.app import create_app
from ledger.chain.checkpoints import CheckpointsContract, log_id
from ledger.domain.log_names import ACCESS_TRAIL_LOG, CREDIT_RECORDS_LOG
from ledger.logs.tiles import TILE_WIDTH, tile_path
from ledger.merkle.rfc9162 import hash_leaf, root
from ledger.request_auth import api_domain, sign_request
from tests.integration.audit.trail import Trail, key


def _signed(trail: Trail, path: str, account_name: str) -> dict[str, str]:
    deployment = trail.platform.deployment
    domain = api_domain(deployment.chain_id, deployment.addresses.membership)
    return sign_request(key(account_name).key, domain, "GET", path, b"")


def _bundle_entries(body: bytes) -> list[bytes]:
    out, at = [], 0
    while at < len(body):
        length = int.from_bytes(body[at : at + 2], "big")
        out.append(body[at + 2 : at + 2 + length])
        at += 2 + length
    assert at == len(body)
    return out


def _paths(size: int) -> list[str]:
    """The level-0 tile paths (full, then one partial) of a tree of `size` leaves."""
    full, rest = divmod(size, TILE_WIDTH)
    paths = [tile_path(0, n) for n in range(full)]
    return paths + ([tile_path(0, full, rest)] if rest else [])


def test_a_tiles_client_follows_each_log_and_checks_it_against_the_chain(trail: Trail) -> None:
    platform = trail.platform
    chain = CheckpointsContract(platform.chain, platform.deployment.addresses.checkpoints)
    with TestClient(create_app(platform)) as client:
        for name in (CREDIT_RECORDS_LOG, ACCESS_TRAIL_LOG):
            note = client.get(f"/logs/{name}/checkpoint")  # no signature: public
            assert note.status_code == 200 and note.headers["content-type"].startswith("text/plain")
            origin, size_line, root_line, anchor, anchor_tx = note.text.rstrip("\n").split("\n")
            size, claimed = int(size_line), base64.b64decode(root_line)
            assert origin.endswith(f"/{name}") and " " not in origin and "+" not in origin
            assert anchor == (
                f"anchor eip155:{platform.deployment.chain_id} {platform.deployment.addresses.checkpoints} "
                f"log 0x{log_id(name).hex()}"
            )
            assert anchor_tx.startswith("anchor-tx 0x")
            on_chain = chain.latest(log_id(name))
            assert (on_chain.size, on_chain.root) == (size, claimed) == (trail.anchored[name], claimed)

            leaf_hashes = b""
            for path in _paths(size):
                tile = client.get(f"/logs/{name}/{path}")
                assert tile.status_code == 200 and tile.headers["content-type"] == "application/octet-stream"
                leaf_hashes += tile.content
            hashes = [leaf_hashes[i : i + 32] for i in range(0, len(leaf_hashes), 32)]
            assert len(hashes) == size and root(hashes) == claimed

            entries: list[bytes] = []
            for path in _paths(size):
                bundle = path.replace("tile/0/", "tile/entries/", 1)
                url = f"/logs/{name}/{bundle}"
                assert client.get(url).status_code == 401  # the leaves are not public
                assert client.get(url, headers=_signed(trail, url, "bank-a")).status_code == 403
                answer = client.get(url, headers=_signed(trail, url, "auditor"))
                assert answer.status_code == 200
                entries += _bundle_entries(answer.content)
            assert [hash_leaf(e) for e in entries] == hashes


def test_tile_requests_outside_the_log_are_refused_by_name(trail: Trail) -> None:
    name = ACCESS_TRAIL_LOG
    with TestClient(create_app(trail.platform)) as client:
        beyond = client.get(f"/logs/{name}/tile/0/999")
        assert beyond.status_code == 404 and "no tile 0/999" in beyond.json()["detail"]
        wide = client.get(f"/logs/{name}/tile/0/000.p/255")
        assert wide.status_code == 404 and "of width 255" in wide.json()["detail"]
        for bad, what in (
            ("tile/0/1", "is not <N>[.p/<W>]"),
            ("tile/0/000.p/0", "width must be 1..255"),
            ("tile/0/000.p/256", "width must be 1..255"),
            ("tile/9/000", "level"),
        ):
            refused = client.get(f"/logs/{name}/{bad}")
            assert refused.status_code == 422 and what in refused.text, (bad, refused.text)
        unknown = client.get("/logs/no-such-log/checkpoint")
        assert unknown.status_code == 404

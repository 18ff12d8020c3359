"""The two-node ethereumjs network's reliability: starts, peering time, agreement.

Starts a fresh two-node network `--runs` times (default 8) on free ports, lets it seal for
8 s, and checks both nodes hold the same block at every height; prints each run and the
count that agreed with the range of start times. A fork at start (two chains that never
merge) shows as a run that does not come together or whose chains differ.

    .venv/bin/python bench/ethereumjs_starts.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.devnet import DevnetError
from ledger.devnet_ethereumjs import EthereumjsNetwork
from tests.conftest import free_port


def one_run(data_dir: Path) -> tuple[float, bool, str]:
    net = EthereumjsNetwork(
        data_dir, rpc_ports=[free_port(), free_port()], p2p_ports=[free_port(), free_port()]
    )
    began = time.monotonic()
    try:
        net.start()
        took = time.monotonic() - began
        time.sleep(8)
        heads = [s.block_number or 0 for s in net.status()]
        agree = all(len({net.block_hash(u, h) for u in net.urls}) == 1 for h in range(1, min(heads) + 1))
        return took, agree, f"heads {heads}"
    except DevnetError as exc:
        return time.monotonic() - began, False, str(exc).splitlines()[0]
    finally:
        net.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ethereumjs-starts-"))
    agreed, times = 0, []
    try:
        for run in range(args.runs):
            took, agree, detail = one_run(root / str(run))
            agreed += agree
            times.append(took)
            print(
                f"run {run}: {'agreed' if agree else 'FAILED'} after a {took:.1f} s start; {detail}",
                flush=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{agreed}/{args.runs} runs agreed; starts took {min(times):.1f}-{max(times):.1f} s")


if __name__ == "__main__":
    main()

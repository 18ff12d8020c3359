"""Time from `credit-ledger up` to a ready /healthz: cold and warm starts.

cold, compiling: fresh data directory and no compiled-contract cache;
cold: fresh data directory (anvil starts empty, contracts deployed, database migrated);
warm: the same data directory again (state reloaded, manifest verified, nothing deployed).
Run: .venv/bin/python bench/startup.py
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.paths import PROJECT_ROOT
from tests.integration.test_platform_up import Up

ROUNDS = 3


def main() -> None:
    cache = PROJECT_ROOT / "build" / "contracts.json"
    results: dict[str, list[float]] = {"cold, compiling": [], "cold": [], "warm": []}
    for _ in range(ROUNDS):
        data = Path(tempfile.mkdtemp()) / "data"
        saved = cache.with_suffix(".bench-saved")
        if cache.exists() and not results["cold, compiling"]:
            shutil.move(cache, saved)
            up = Up(data)
            results["cold, compiling"].append(up.start(timeout=300))
            up.stop()
            shutil.rmtree(data)
            if not cache.exists():
                shutil.move(saved, cache)
            else:
                saved.unlink()
        up = Up(data)
        results["cold"].append(up.start())
        up.stop()
        up = Up(data)
        results["warm"].append(up.start())
        up.stop()
        shutil.rmtree(data.parent)
    print(f"{'start':<18}{'runs':>5}{'median s':>10}{'min s':>8}{'max s':>8}")
    for name, times in results.items():
        if times:
            print(
                f"{name:<18}{len(times):>5}{statistics.median(times):>10.2f}{min(times):>8.2f}{max(times):>8.2f}"
            )
    print(f"warm/cold ratio: {statistics.median(results['warm']) / statistics.median(results['cold']):.2f}")


if __name__ == "__main__":
    main()

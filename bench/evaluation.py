"""One evaluation over HTTP against one masked release of the same subject, in the same run.

The platform is started as in production (`credit-ledger up --no-serve`, then uvicorn with 2
workers) on PostgreSQL with the devnet; one SYNTHETIC enterprise (`ledger.evaluation.synthetic`)
has its records ingested, a scorecard trained on a SYNTHETIC cohort is stored, proposed and
approved by two operators, and a bank holds an agreement and a grant over the model's input
categories; the enterprise has made two truthfulness commitments on chain, one of them marked
breached, which every evaluation reads at its block B. Then, alternately, one masked release
of those same categories and one evaluation of the subject, each a distinct pre-signed request
sent alone (concurrency 1): median and p90 latency of each, and the ratio evaluation / release
(the issue's target: at most 2).

Needs PostgreSQL on 127.0.0.1:5432.
Run: .venv/bin/python bench/evaluation.py [--requests 60]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from eth_account import Account
from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.release import ADMIN_URL, HERE, agree_and_grant, free_port, serve, wait_ready
from ledger.chain.agreements import CommitmentKind, CommitMessage, MarkBreachedMessage
from ledger.chain.commitment_events import CommitmentEvents
from ledger.chain.membership import Action, InstitutionKind, Role, uscc_hash
from ledger.chain.model_registry import ApproveModelProposalMessage, ProposeModelMessage
from ledger.devnet import devnet_key
from ledger.domain.catalogue import default_catalogue
from ledger.evaluation.facts import FACTS
from ledger.evaluation.schema import default_indicators
from ledger.evaluation.synthetic import SyntheticCohort
from ledger.evaluation.training import TrainingRow, TrainingSource, train
from ledger.evaluation_release.request import (
    evaluation_domain,
    evaluation_request_to_json,
    sign_evaluation_request,
)
from ledger.release.request import request_domain, request_to_json, sign_data_request
from ledger.sdk import LedgerClient

SEED = 29
COHORT = 2_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=60, help="requests of each kind, alternated")
    args = parser.parse_args()

    today = datetime.now(UTC).date()
    indicators = default_indicators()
    cohort = SyntheticCohort(SEED, today, indicators)
    labelled = list(cohort.labelled(0, COHORT))
    rows = [TrainingRow(x.subject, x.portrait.values, x.default) for x in labelled if x.portrait.sufficient]
    source = TrainingSource(
        synthetic=True,
        description_en="SYNTHETIC SME cohort for bench/evaluation.py",
        description_zh="bench/evaluation.py 用合成中小企业样本",
        details={"generator": "ledger.evaluation.synthetic", "seed": SEED, "enterprises": COHORT},
        excluded_insufficient=len(labelled) - len(rows),
    )
    trained = train(rows, indicators, source)
    # the subject: the first synthetic enterprise with a sufficient portrait and many records
    chosen = next(x for x in labelled if x.portrait.sufficient and len(x.enterprise.records) >= 15)
    records = [r for r in chosen.enterprise.records if r.category not in FACTS]

    work = Path(tempfile.mkdtemp(prefix="bench-evaluation-"))
    db_name = f"bench_evaluation_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    api_port = free_port()
    env = {
        **os.environ,
        "LEDGER_DATA_DIR": str(work / "data"),
        "LEDGER_DEVNET_PORT": str(free_port()),
        "LEDGER_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{db_name}",
    }
    cli = str(Path(sys.executable).with_name("credit-ledger"))
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run([cli, "up", "--no-serve"], env=env, check=True, capture_output=True)
        server = serve("api.main:create", api_port, env)
        api = f"http://127.0.0.1:{api_port}"
        wait_ready(f"{api}/healthz")

        catalogue = default_catalogue()
        credit = catalogue.purpose_mask(["credit_assessment"])
        operators = [LedgerClient(api, Account.from_key(devnet_key(i))) for i in (1, 2)]  # DEVNET ONLY keys
        bank_key, provider_key, enterprise_key = Account.create(), Account.create(), Account.create()
        for account, role, kind in ((bank_key, Role.INSTITUTION, InstitutionKind.BANK),
                                    (provider_key, Role.PROVIDER, InstitutionKind.NONE)):  # fmt: skip
            proposal = operators[0].propose(
                Action.ADMIT, account=account.address, role=role, kind=kind, name="m"
            )
            operators[1].approve(proposal["proposal_id"])
        subject = chosen.subject
        operators[0].register_enterprise(enterprise_key.address, subject, "合成企业")
        operators[0].publish_catalogue(
            json.loads((HERE.parent / "ledger/catalogue/catalogue-v1.json").read_text())
        )
        provider = LedgerClient(api, provider_key)
        submissions = []
        for r in records:
            fields = json.loads(json.dumps(dict(r.fields), default=str))
            submission = {"category": r.category, "subject": subject, "event_date": r.event_date.isoformat()}
            submission |= {"source_ref": f"BENCH-{r.record_id}", "fields": fields}
            if r.severity is not None:
                submission["severity"] = r.severity
            submissions.append(submission)
        provider.submit_records(submissions)
        stored = operators[0].store_model_documents(
            json.loads(trained.document.canonical()), json.loads(trained.card.canonical())
        )
        inputs = int(stored["input_categories"])
        proposal = operators[0].act(
            ProposeModelMessage,
            model_hash=bytes.fromhex(stored["model_hash"][2:]),
            card_hash=bytes.fromhex(stored["card_hash"][2:]),
            indicator_version=int(stored["indicator_version"]),
            input_categories=inputs,
        )["created_id"]
        operators[1].act(ApproveModelProposalMessage, id=proposal)
        version = operators[0].model_proposal(int(proposal))["version"]
        bank, enterprise = LedgerClient(api, bank_key), LedgerClient(api, enterprise_key)
        agreement = agree_and_grant(bank, enterprise, operators[0], subject, inputs, credit)
        commitments = [
            enterprise.act(CommitMessage, kind=CommitmentKind.ENTERPRISE_TRUTHFULNESS,
                           document_hash=keccak(text=f"truthfulness {n}"))["created_id"]
            for n in range(2)
        ]  # fmt: skip
        operators[0].act(MarkBreachedMessage, commitment_id=commitments[0], evidence_hash=keccak(text="e"))
        first = bank.evaluate(subject, int(version), credit, agreement)
        released = bank.release(subject, inputs, credit, agreement)
        assert first["data"]["status"] == "scored", first
        conduct = first["data"]["portrait"]["values"]
        assert (conduct["commitments_kept"], conduct["commitments_breached"]) == (1, 1), conduct

        chain = bank.chain()
        release_dom = request_domain(chain["chain_id"], chain["contracts"]["Consents"]["address"])
        eval_dom = evaluation_domain(chain["chain_id"], chain["contracts"]["ModelRegistry"]["address"])
        releases = [
            request_to_json(
                sign_data_request(
                    bank_key,
                    release_dom,
                    subject=subject,
                    categories=inputs,
                    purpose=credit,
                    agreement_id=agreement,
                    validity_seconds=3600,
                )
            )
            for _ in range(args.requests)
        ]
        evaluations = [
            evaluation_request_to_json(
                sign_evaluation_request(
                    bank_key,
                    eval_dom,
                    subject=subject,
                    model_version=int(version),
                    purpose=credit,
                    agreement_id=agreement,
                    validity_seconds=3600,
                )
            )
            for _ in range(args.requests)
        ]
        times: dict[str, list[float]] = {"release": [], "evaluation": []}
        with httpx.Client(base_url=api, timeout=30) as http:
            for release_body, evaluation_body in zip(releases, evaluations, strict=True):
                for kind, path, body in (("release", "/releases", release_body),
                                         ("evaluation", "/evaluations", evaluation_body)):  # fmt: skip
                    started = time.perf_counter()
                    answer = http.post(path, json=body)
                    times[kind].append(time.perf_counter() - started)
                    assert answer.status_code == 200, answer.text
        # what each evaluation adds on the chain (in a worker thread, overlapped with the model's
        # check and the records' reading), timed alone in this process against the same devnet
        contracts = chain["contracts"]
        reader = CommitmentEvents(
            f"http://127.0.0.1:{env['LEDGER_DEVNET_PORT']}",
            membership=contracts["Membership"]["address"],
            agreements=contracts["Agreements"]["address"],
            from_block=0,
        )
        head = reader.block_number()
        for _ in range(args.requests):
            started = time.perf_counter()
            found = reader.of_enterprise(uscc_hash(subject), head)
            times.setdefault("commitments", []).append(time.perf_counter() - started)
            assert [c.breached for c in found] == [True, False], found
        reader.close()
        load = os.getloadavg()[0]
        shown = len(released["data"]["records"])
        print(f"subject {subject}: {len(records)} records ingested, {shown} released "
              f"masked in the model's {len(catalogue.categories_in_mask(inputs))} input categories; "
              f"SYNTHETIC model trained on {len(rows):,} portraits; 2 commitments on chain, 1 breached, "
              f"read at each evaluation's block")  # fmt: skip
        print(f"{args.requests} of each, alternated, concurrency 1, uvicorn 2 workers, PostgreSQL, "
              f"load average {load:.1f}")  # fmt: skip
        for kind in ("release", "evaluation"):
            ms = [t * 1000 for t in times[kind]]
            print(f"  {kind:<10} median {statistics.median(ms):6.2f} ms   p90 {percentile(ms, 0.9):6.2f} ms")
        ms = [t * 1000 for t in times["commitments"]]
        print(f"  commitments read at B alone (2 round trips): median {statistics.median(ms):6.2f} ms   "
              f"p90 {percentile(ms, 0.9):6.2f} ms")  # fmt: skip
        ratio = statistics.median(times["evaluation"]) / statistics.median(times["release"])
        print(f"  ratio evaluation / masked release (medians): {ratio:.2f} (target at most 2)")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        subprocess.run([cli, "devnet", "down"], env=env, check=False, capture_output=True)
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

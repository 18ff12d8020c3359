"""Evaluation as a release: a score and a portrait computed where the data lives.

An institution's signed evaluation request goes, failing closed at every step, through:

1. the signature, the deadline and every field's range (`request.py`);
2. the model version on chain: known (404 `model_unknown`) and active (403
   `model_not_active`: proposed but not yet approved by quorum, or retired);
3. one `Consents.authorize` call at block B for the model's input categories, the
   request's purpose and agreement, at the masked detail level of those categories (a
   derived result never involves raw values); the model is checked active at B too, and
   B must be fresh (as for a release);
4. in the access trail's transaction: the request's nonce spent (a replay is refused),
   the credit-record log held still (`held_size`: no record, objection or repair can be
   appended until the transaction ends) and its size n read, the subject's current
   records of those categories read, the portrait computed from
   those the release rules let out (repaired records and dishonesty records past their
   publicity are never read, nor facts about them), the score made from it with the
   approved model document - or, short of data, the dimensions missing named - and the
   trail entry appended: model version and hashes, the record versions read (the leaves
   of the inputs, each with its dispute flag as read), the record-log size n they were
   read at (the auditor holds the inputs to the subject's whole releasable set among the
   log's first n entries), the output's hash with its score
   and grade, block B, grant and the signed request - what the auditor needs to recompute
   the answer from the opened records (`ledger.audit.verify_evaluations`);
5. only after that commit, the answer.

Every refusal is written to the MLPS audit records before the caller hears of it, and
nothing is computed for a refused request.

Credit-conduct facts: the subject's objections and repair applications are read with its
records, each covered by its record's category (`conduct.py`) and named in the trail
entry; its credit commitments (public, on chain) are read from the chain at block B, in a
worker thread while the model is checked at B and the records are read (they do not depend
on the record log, and the two waits overlap), every account the enterprise has used
followed, and named in the trail entry with where they are on chain and whether they were
breached as of B.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from ledger.chain.authorize_call import AuthorizeCaller
from ledger.chain.commitment_events import CommitmentEvents, OnChainCommitment
from ledger.chain.consents import AuthorizationQuery, Decision
from ledger.chain.eip712 import Signed
from ledger.chain.errors import ContractRevert
from ledger.chain.membership import Member, uscc_hash
from ledger.chain.model_registry import ModelCaller, ModelRegistryContract, ModelStatus, ModelVersion
from ledger.domain.business_day import BUSINESS_UTC_OFFSET_MINUTES, business_day
from ledger.domain.catalogue import Catalogue, CatalogueError
from ledger.domain.log_names import ACCESS_TRAIL_LOG, CREDIT_RECORDS_LOG
from ledger.domain.publicity import publication_ended
from ledger.errors import InvalidInput, LedgerError, NotAuthorized, NotFound, Unavailable
from ledger.evaluation.facts import COMMITMENT
from ledger.evaluation.guidance import guidance
from ledger.evaluation.indicators import IndicatorFile
from ledger.evaluation.monitoring import WARNING, stability
from ledger.evaluation.portrait import Portrait, PortraitEvaluator
from ledger.evaluation.records import PlainRecord, RecordView
from ledger.evaluation.scoring import Scorer
from ledger.evaluation_release.conduct import (
    commitment_fact,
    commitment_json,
    conduct_facts,
    conduct_facts_of,
    fact_json,
)
from ledger.evaluation_release.documents import ModelDocuments, StoredModel
from ledger.evaluation_release.request import (
    EvaluationRequestMessage,
    check_evaluation_fields,
    evaluation_request_to_json,
    verify_evaluation_request,
)
from ledger.evaluation_release.views import ModelDocumentsReceipt, SelfEvaluation
from ledger.logs.canonical_json import canonical_json
from ledger.logs.store import AppendedEntry, held_size
from ledger.release.outcome import ChainRefused, Receipt, Released, check_fresh
from ledger.release.reader import CurrentRecord, RecordReader
from ledger.release.request import release_nonce
from ledger.release.trail import AccessTrail, TrailEntry, TrailTransaction, replayed
from ledger.selfservice.context import audited, require_subject
from ledger.services import audit_events
from ledger.storage import driver_sql
from ledger.storage.database import Database

#: the leaf type of an evaluation in the access trail
EVALUATION_ENTRY_TYPE = "evaluation"
#: how many reason codes an evaluation names
REASONS = 4
#: enterprises whose records monitoring reads in one statement
MONITOR_BATCH = 500


class ModelUnknown(NotFound):
    code = "model_unknown"


class ModelNotActive(NotAuthorized):
    """The model version is proposed but not approved by quorum, or retired."""

    code = "model_not_active"


class EvaluationRefused(ChainRefused):
    """The chain refused the evaluation; `reason` is the contract's reason code."""

    code = "evaluation_refused"
    noun = "evaluation"


#: where the evaluation's trail entry landed, block B and the answer's hash
EvaluationReceipt = Receipt
#: the answer (score, grade, reasons, portrait) as canonical JSON, and its receipt
Evaluation = Released


def portrait_json(portrait: Portrait) -> dict[str, Any]:
    """The portrait as an evaluation answers it: indicator values, disputed ones, missing dimensions."""
    return {
        "indicator_version": portrait.indicator_version,
        "as_of": portrait.as_of.isoformat(),
        "values": dict(portrait.values),
        "disputed": list(portrait.disputed),
    }


def evaluation_result(stored: StoredModel, scorer: Scorer, portrait: Portrait) -> dict[str, Any]:
    """Score, grade, probability and band, four reasons - or the dimensions missing."""
    if not portrait.sufficient:
        return {"status": "insufficient_data", "missing_dimensions": list(portrait.insufficient)}
    score = scorer.score(portrait.values)
    return {
        "status": "scored",
        "score": score.score,
        "grade": score.grade,
        "probability": round(score.probability, 6),
        "probability_band": list(score.band),
        "reasons": [r.to_json() for r in scorer.reasons(score, REASONS)],
    }


class _Refused(Exception):
    """Carries a refusal out of the trail's transaction, which would report any `LedgerError`
    raised inside it as the trail's own failure; the transaction is rolled back on the way."""

    def __init__(self, error: LedgerError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class _Job:
    """One authorized evaluation on its way into the trail."""

    signed: Signed[EvaluationRequestMessage]
    at: datetime
    model: ModelVersion
    stored: StoredModel
    scorer: Scorer
    decision: Decision
    level: int

    @property
    def nonce(self) -> str:
        return release_nonce(self.signed.message.nonce)


class EvaluationService:
    """The one path by which a score or portrait of an enterprise reaches an institution.

    Synchronous: `evaluate` blocks (the API runs it in a worker thread). Owns its chain
    connection, record reader and trail session; `close` releases them.
    """

    def __init__(
        self,
        db: Database,
        *,
        domain: dict[str, Any],
        reader: RecordReader,
        trail: AccessTrail,
        authorizer: AuthorizeCaller,
        models: ModelRegistryContract,
        model_caller: ModelCaller,
        documents: ModelDocuments,
        catalogue: Catalogue,
        commitments: CommitmentEvents,
        max_block_age_seconds: int,
        max_lifetime_seconds: int,
        utc_offset_minutes: int = BUSINESS_UTC_OFFSET_MINUTES,
    ) -> None:
        self.db = db
        #: an evaluation's as_of is the business day (China Standard Time) of its instant,
        #: the day self-service files facts on: one calendar across the platform
        self.utc_offset_minutes = utc_offset_minutes
        self.domain = domain
        self.reader = reader
        self.trail = trail
        self.authorizer = authorizer
        self.models = models
        self.model_caller = model_caller
        self._versions: dict[int, ModelVersion] = {}
        self.documents = documents
        self.catalogue = catalogue
        self.commitments = commitments
        self._chain_reads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="commitments")
        self.max_block_age_seconds = max_block_age_seconds
        self.max_lifetime_seconds = max_lifetime_seconds
        #: one portrait evaluator per model, by its hash: each model reads the indicator file it names
        self._portraits: dict[bytes, PortraitEvaluator] = {}
        self._scorers: dict[bytes, Scorer] = {}
        #: called in the trail's transaction with (session, institution, subject, grade,
        #: previous grade of that institution's evaluations of the subject or None, the
        #: model's input categories): the grade-drop alert trigger
        self.on_evaluated: EvaluatedHook | None = None

    def input_mask(self, indicators: IndicatorFile) -> int:
        """The categories a model under `indicators` reads, as the on-chain mask
        (`inputCategories` of its version): every catalogue category the indicator file reads."""
        known = {c.name for c in self.catalogue.categories}
        return self.catalogue.category_mask(c for c in indicators.categories() if c in known)

    def portraits(self, stored: StoredModel) -> PortraitEvaluator:
        """The portrait evaluator of the indicator file `stored`'s model names (compiled once a
        model: keyed by the model's hash, already known, as hashing the file costs 0.8 ms)."""
        key = stored.model_hash
        evaluator = self._portraits.get(key)
        if evaluator is None:
            evaluator = self._portraits[key] = PortraitEvaluator(stored.indicators)
        return evaluator

    def close(self) -> None:
        self.model_caller.close()
        self._chain_reads.shutdown(wait=True)
        self.commitments.close()
        self.authorizer.close()
        self.reader.close()
        self.trail.close()

    def evaluate(self, signed: Signed[EvaluationRequestMessage], *, now: float | None = None) -> Evaluation:
        """Evaluate what `signed` asks for, or raise; every refusal is audited first."""
        at = datetime.now(UTC) if now is None else datetime.fromtimestamp(now, UTC)
        try:
            return self._evaluate(signed, at)
        except LedgerError as exc:
            self._audit_refusal(signed.message, exc)
            raise
        except Exception as exc:  # a defect must still refuse, never answer
            error = Unavailable(f"evaluation failed: {exc!r}")
            self._audit_refusal(signed.message, error)
            raise error from exc

    # -- steps ---------------------------------------------------------------------------

    def _evaluate(self, signed: Signed[EvaluationRequestMessage], at: datetime) -> Evaluation:
        request = signed.message
        verify_evaluation_request(signed, self.domain, now=at.timestamp())
        check_evaluation_fields(request, now=at.timestamp(), max_lifetime=self.max_lifetime_seconds)
        self._check_purpose(request.purpose)
        model = self._terms(request.model_version)
        categories = self._input_categories(model)
        level = self.catalogue.max_level(categories, raw=False)
        query = AuthorizationQuery(
            request.institution,
            uscc_hash(request.subject),
            model.input_categories,
            request.purpose,
            request.agreement_id,
            level,
            int(at.timestamp()),
        )
        decision = self.authorizer.authorize(query)
        check_fresh(decision, int(at.timestamp()), self.max_block_age_seconds, nothing="evaluated")
        if not decision.allowed:
            raise EvaluationRefused(decision.reason, decision.block_number)
        # the subject's commitments and the model's state at B, read from the chain while the
        # records are read: the three waits overlap instead of adding up
        reading = self._chain_reads.submit(self._commitments_at, request.subject, decision.block_number)
        checking = self._chain_reads.submit(self._active_at, model, decision.block_number)
        nonce = release_nonce(request.nonce)
        try:
            with self.trail.transaction() as tx:
                fresh = tx.spend_nonces([(request.institution, nonce)])
                # the record log held still: the records read are exactly those of its first n entries
                size = held_size(tx.session, CREDIT_RECORDS_LOG)
                previous = (  # for the grade-drop trigger, sent with the statements beside it
                    previous_grade_sent(tx.session, request.institution, request.subject)
                    if self.on_evaluated is not None
                    else None
                )
                found = self.reader.current(tx.session, {request.subject}, set(categories))
                records = found.get(request.subject, [])
                facts = conduct_facts(tx.session, request.subject, records)
                try:  # a model refused at B rolls the transaction back (the nonce stays unspent)
                    model = checking.result()
                    stored = self._stored(model)
                except LedgerError as exc:
                    raise _Refused(exc) from exc
                job = _Job(signed, at, model, stored, self._scorer(stored), decision, level)
                commitments = reading.result()
                # a replay is raised once the transaction, which then holds nothing, is closed:
                # raised inside, it would read as the trail's failure
                logged = (
                    self._log(tx, job, records, facts, commitments, size(), previous) if fresh()[0] else None
                )
        except _Refused as refused:
            raise refused.error from None
        if logged is None:
            raise replayed(request.institution, nonce)
        appended, digest, data_json = logged
        receipt = EvaluationReceipt(
            ACCESS_TRAIL_LOG, appended.seq, appended.leaf_hash, decision.block_number, digest
        )
        return Evaluation(receipt, data_json)

    def _log(
        self,
        tx: TrailTransaction,
        job: _Job,
        records: list[CurrentRecord],
        facts: list[PlainRecord],
        commitments: tuple[OnChainCommitment, ...],
        record_log_size: int,
        previous: Callable[[], str | None] | None,
    ) -> tuple[AppendedEntry, bytes, bytes]:
        """Past the nonce: portrait, score, the answer and its hash, the trail entry appended in `tx`."""
        request, model, decision = job.signed.message, job.model, job.decision
        today = business_day(job.at, self.utc_offset_minutes)
        offset = self.utc_offset_minutes
        portrait = self.portraits(job.stored).evaluate(
            [*records, *facts, *(commitment_fact(c, offset) for c in commitments)],
            today,
            withheld=lambda r: self._expired(r, today),
        )
        read = set(portrait.inputs)
        answer = {
            "kind": EVALUATION_ENTRY_TYPE,
            "subject": request.subject,
            "block": decision.block_number,
            "model": _model_json(model, job.stored),
            "portrait": portrait_json(portrait),
            **evaluation_result(job.stored, job.scorer, portrait),
        }
        data_json = canonical_json(answer)
        digest = hashlib.sha256(data_json).digest()
        disputed = {(r.record_id, r.version): r.disputed for r in records}
        payload = {
            "kind": EVALUATION_ENTRY_TYPE,
            "institution": request.institution,
            "subject": request.subject,
            "model_version": model.version,
            "model_hash": "0x" + model.model_hash.hex(),
            "card_hash": "0x" + model.card_hash.hex(),
            "indicator_version": model.indicator_version,
            "categories": str(model.input_categories),
            "purpose": str(request.purpose),
            "agreement_id": request.agreement_id,
            "grant_id": decision.grant_id,
            "level": job.level,
            "block": decision.block_number,
            "as_of": today.isoformat(),
            # the credit-record log's size the records were read at: the auditor holds the
            # inputs to the subject's whole releasable set among its first n entries
            "record_log_size": record_log_size,
            "inputs": [
                {"record_id": r, "version": v, "disputed": disputed[(r, v)]}
                for r, v in portrait.inputs
                if (r, v) in disputed
            ],
            # the conduct facts read: objections and repair applications about the inputs
            "facts": [
                fact_json(f) for f in sorted(facts, key=lambda f: f.record_id) if (f.record_id, 1) in read
            ],
            # the subject's credit commitments on chain as of block B, kept or breached there
            "commitments": [commitment_json(c, offset) for c in commitments],
            "status": answer["status"],
            "score": answer.get("score"),
            "grade": answer.get("grade"),
            "response_hash": "0x" + digest.hex(),
            "released_at": job.at.isoformat(),
            "request": evaluation_request_to_json(job.signed),
        }
        if self.on_evaluated is not None and previous is not None and answer.get("grade") is not None:
            # the grade-drop trigger, in the trail's transaction: the alert exists exactly
            # when the evaluation's entry does
            categories = self.catalogue.categories_in_mask(model.input_categories)
            self.on_evaluated(
                tx.session, request.institution, request.subject, answer["grade"], previous(), categories
            )
        (appended,) = tx.append([TrailEntry(payload, request.institution, job.nonce, EVALUATION_ENTRY_TYPE)])
        return appended, digest, data_json

    # -- the enterprise's own evaluation --------------------------------------------------

    def self_evaluation(
        self, caller: str, member: Member, subject: str, *, model_version: int | None = None
    ) -> SelfEvaluation:
        """The enterprise's own evaluation, free and not a release: score, grade, reasons,
        portrait and what would raise the grade, with the latest active model (or the one named).

        The portrait reads the records as a release would (repaired records and records past
        their publicity are not read), so the enterprise sees what an institution would get.
        Served and refused calls are written to the MLPS audit records.
        """
        with audited(self.db, caller, "self.evaluation"):
            require_subject(caller, member, subject, "see its own evaluation")
            version = model_version if model_version is not None else self._latest_active()
            model = self._model(version, "latest")
            stored = self._stored(model)
            scorer = self._scorer(stored)
            categories = self._input_categories(model)
            today = business_day(datetime.now(UTC), self.utc_offset_minutes)
            commitments = self._commitments_at(subject, self.commitments.block_number())
            with self.db.session() as session:
                records = self.reader.current(session, {subject}, set(categories)).get(subject, [])
                facts = conduct_facts(session, subject, records)
            facts += [commitment_fact(c, self.utc_offset_minutes) for c in commitments]
            portrait = self.portraits(stored).evaluate(
                [*records, *facts], today, withheld=lambda r: self._expired(r, today)
            )
            answer = SelfEvaluation(
                subject=subject,
                model=dict(_model_json(model, stored)),
                portrait=portrait_json(portrait),
                **evaluation_result(stored, scorer, portrait),
                guidance=guidance(scorer, scorer.score(portrait.values)).to_json()
                if portrait.sufficient
                else None,
            )
        audit_events.record(self.db, actor=caller, event="self.evaluation", outcome="served", detail=subject)
        return answer

    def store_documents(
        self, operator: str, document: str | bytes, card: str | bytes
    ) -> ModelDocumentsReceipt:
        """Check and keep a model document with its card (`POST /models/documents`, operators)."""
        stored = self.documents.store(document, card, operator=operator)
        mask = self.input_mask(stored.indicators)
        version = stored.model.indicator_file.version
        return ModelDocumentsReceipt(
            stored.model_hash, stored.card_hash, version, mask, self.catalogue.names_in_mask(mask)
        )

    def monitoring(self, caller: str, version: int, *, batch: int = MONITOR_BATCH) -> dict[str, Any]:
        """Population stability of model `version` online (operators): PSI of the score and of
        each indicator between the model's training population (its card) and today's - every
        enterprise's portrait from its current records and conduct facts, read as an evaluation
        reads them - with the grades today and a warning for each PSI past 0.25.

        Aggregates only: no enterprise's portrait or score leaves. Written to the audit records.
        """
        with audited(self.db, caller, "model.monitor"):
            model = self.model_version(version)
            stored = self._stored(model)
            scorer = self._scorer(stored)
            portraits = self.portraits(stored)
            categories = set(self._input_categories(model))
            today = business_day(datetime.now(UTC), self.utc_offset_minutes)
            population = []
            committed = self._everyone_committed()
            with self.db.session() as session:
                subjects = self._subjects(session, categories)
                for start in range(0, len(subjects), batch):
                    found = self.reader.current(session, subjects[start : start + batch], categories)
                    facts = conduct_facts_of(session, found)
                    for subject, records in found.items():
                        commitments = committed.get(uscc_hash(subject), ())
                        portrait = portraits.evaluate(
                            [*records, *facts.get(subject, []),
                             *(commitment_fact(c, self.utc_offset_minutes) for c in commitments)],
                            today, withheld=lambda r: self._expired(r, today),
                        )  # fmt: skip
                        if portrait.sufficient:
                            population.append(portrait.values)
            report = stability(scorer, stored.card, population)
        detail = f"model version {version}: {len(report.warnings)} warning(s)"
        audit_events.record(self.db, actor=caller, event="model.monitor", outcome="served", detail=detail)
        return {
            "model": _model_json(model, stored),
            "status": model.status.name.lower(),
            "as_of": today.isoformat(),
            "warning_psi": WARNING,
            **report.to_json(),
        }

    def _reads_commitments(self) -> bool:
        return COMMITMENT in self.documents.indicators.categories()

    def _commitments_at(self, subject: str, block: int) -> tuple[OnChainCommitment, ...]:
        """The subject's credit commitments on chain as of `block`, when the indicator file reads them."""
        if not self._reads_commitments():
            return ()
        return tuple(self.commitments.of_enterprise(uscc_hash(subject), block))

    def _everyone_committed(self) -> Mapping[bytes, list[OnChainCommitment]]:
        """Every enterprise's commitments on chain now, by USCC hash (monitoring's population)."""
        if not self._reads_commitments():
            return {}
        return self.commitments.everyone(self.commitments.block_number())

    @staticmethod
    def _subjects(session: Session, categories: set[str]) -> list[str]:
        """Every enterprise with a record of `categories`."""
        names, params = driver_sql.in_list("category", sorted(categories))
        sql = f"SELECT DISTINCT subject FROM credit_records WHERE category IN {names} ORDER BY subject"
        return [str(row[0]) for row in driver_sql.query(session, sql, params)]

    def model_version(self, version: int) -> ModelVersion:
        """Model `version` on chain whatever its status (404 `model_unknown` if never proposed)."""
        try:
            return self.models.model(version)
        except ContractRevert as exc:
            if exc.error_name == "NonexistentModelVersion":
                raise ModelUnknown(f"model version {version} was never proposed") from None
            raise

    def _latest_active(self) -> int:
        for version in range(self.models.version_count(), 0, -1):
            if self.models.model(version).status is ModelStatus.ACTIVE:
                return version
        raise ModelUnknown("no model version is active: operators have approved none, or retired every one")

    def _terms(self, version: int) -> ModelVersion:
        """Model `version`'s hashes and inputs, which never change once proposed (cached);
        its status is read at each decision's block (`_active_at`)."""
        terms = self._versions.get(version)
        if terms is None:
            try:
                terms = self.models.model(version)
            except ContractRevert as exc:
                if exc.error_name == "NonexistentModelVersion":
                    raise ModelUnknown(f"model version {version} was never proposed") from None
                raise
            self._versions[version] = terms
        return terms

    def _active_at(self, terms: ModelVersion, block: int) -> ModelVersion:
        """The model at block B, which must be active there, with the terms it was proposed with."""
        model = self.model_caller.model(terms.version, block)
        if model is None or model.model_hash != terms.model_hash:
            raise ModelUnknown(f"model version {terms.version} is not the one proposed, at block {block}")
        if model.status is not ModelStatus.ACTIVE:
            raise ModelNotActive(
                f"model version {terms.version} is {model.status.name.lower()} at block {block}: "
                "only a version approved by operator quorum and not retired is used"
            )
        return model

    def _model(self, version: int, block: int | str) -> ModelVersion:
        try:
            model = self.models.model(version, block)
        except ContractRevert as exc:
            if exc.error_name == "NonexistentModelVersion":
                raise ModelUnknown(f"model version {version} was never proposed") from None
            raise
        if model.status is not ModelStatus.ACTIVE:
            raise ModelNotActive(
                f"model version {version} is {model.status.name.lower()} at block {block}: "
                "only a version approved by operator quorum and not retired is used"
            )
        return model

    def _input_categories(self, model: ModelVersion) -> list[str]:
        try:
            return self.catalogue.categories_in_mask(model.input_categories)
        except CatalogueError as exc:
            raise ModelNotActive(
                f"model version {model.version} reads categories unknown here: {exc.message}"
            ) from None

    def _stored(self, model: ModelVersion) -> StoredModel:
        stored = self.documents.get(model.model_hash)
        if stored.card_hash != model.card_hash:
            raise ModelNotActive(f"model version {model.version}: the stored card is not the one approved")
        if stored.model.indicator_file.version != model.indicator_version:
            raise ModelNotActive(f"model version {model.version}: the document reads another indicator file")
        return stored

    def _scorer(self, stored: StoredModel) -> Scorer:
        scorer = self._scorers.get(stored.model_hash)
        if scorer is None:
            scorer = self._scorers[stored.model_hash] = Scorer(stored.model)
        return scorer

    def _check_purpose(self, mask: int) -> None:
        known = {p.bit for p in self.catalogue.purposes}
        if mask <= 0 or mask & (mask - 1) or mask.bit_length() - 1 not in known:
            raise InvalidInput("request.purpose: exactly one purpose of the catalogue, as a one-bit mask")

    def _expired(self, record: RecordView, today: date) -> bool:
        return publication_ended(self.catalogue, record.category, record.severity, record.event_date, today)

    def _audit_refusal(self, m: EvaluationRequestMessage, error: LedgerError) -> None:
        detail = (
            f"{error.code}: {error.message}; subject={m.subject} model_version={m.model_version} "
            f"purpose={m.purpose} agreement={m.agreement_id}"
        )
        with contextlib.suppress(LedgerError):  # the database is down: refused all the same
            audit_events.record(
                self.db, actor=m.institution, event="evaluation", outcome="refused", detail=detail
            )


#: (session, institution, subject, grade, previous grade, input categories) -> anything
EvaluatedHook = Callable[[Session, str, str, str, str | None, list[str]], object]

#: how many of an institution's latest trail entries about a subject are searched for its
#: previous evaluation
PREVIOUS_SEARCH = 50


def previous_grade(session: Session, institution: str, subject: str) -> str | None:
    """The grade of `institution`'s latest scored evaluation of `subject` before now, from the trail."""
    return previous_grade_sent(session, institution, subject)()


def previous_grade_sent(session: Session, institution: str, subject: str) -> Callable[[], str | None]:
    """`previous_grade`'s statement sent now, its answer when the returned function is called.

    A driver statement (`ledger.storage.driver_sql`): inside the trail's transaction it travels
    with the statements sent beside it (pipeline mode on PostgreSQL), so it costs no round trip
    of its own.
    """
    rows = driver_sql.query_deferred(
        session,
        "SELECT l.leaf FROM access_releases a JOIN log_entries l ON l.log_name = :log AND l.seq = a.seq "
        "WHERE a.institution = :institution AND a.subject = :subject ORDER BY a.seq DESC LIMIT :n",
        {"log": ACCESS_TRAIL_LOG, "institution": institution, "subject": subject, "n": PREVIOUS_SEARCH},
    )

    def grade() -> str | None:
        for (leaf,) in rows():
            value = json.loads(bytes(leaf))
            if value.get("type") == EVALUATION_ENTRY_TYPE and isinstance(value.get("grade"), str):
                return str(value["grade"])
        return None

    return grade


def _fact_id(fact: PlainRecord) -> str:
    return fact.record_id


def _model_json(model: ModelVersion, stored: StoredModel) -> Mapping[str, Any]:
    return {
        "version": model.version,
        "model_hash": "0x" + model.model_hash.hex(),
        "model_id": stored.model.model_id,
        "model_version": stored.model.model_version,
        "indicator_version": model.indicator_version,
        "synthetic": stored.model.synthetic,
    }

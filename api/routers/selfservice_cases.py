"""The routes every kind of case answers alike: its listing, the escalation of the overdue, one case.

`add_case_routes` adds them to a kind's router (`selfservice_objections`,
`selfservice_repairs`), which writes the acts that differ (filing, deciding, …) itself.
What the shared routes say comes from the kind (`ledger.selfservice.cases.CaseKind`): its
words, its states (the listing's `status`), its refusal for an unknown id, whether the
record's provider sees its cases; the kind's router gives the response model, the
workflow and an example id.

This module does not defer its annotations (no `from __future__ import annotations`): the
routes' parameter types are the kind's, made in `add_case_routes`, and FastAPI reads them
from the annotations of the functions defined there.
"""

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.deps import CallerDep
from api.routers.selfservice_deps import SelfServiceDep
from api.routers.selfservice_schemas import USCC_EXAMPLE, rule_responses
from ledger.selfservice import errors as rules
from ledger.selfservice.cases import CaseKind, CaseWorkflow
from ledger.selfservice.service import SelfService

__all__ = ["CaseFilter", "add_case_routes"]

Status = TypeVar("Status")


class CaseFilter(BaseModel, Generic[Status]):
    """The listing's query parameters; `status` is one of the kind's states."""

    subject: str | None = Field(default=None, examples=[USCC_EXAMPLE])
    status: Status | None = None
    overdue: bool = Field(default=False, description="only open ones past their deadline")
    limit: int = Field(default=200, ge=1, le=1000)


def add_case_routes(
    router: APIRouter,
    kind: CaseKind[Any, Any],
    model: type[BaseModel],
    workflow: Callable[[SelfService], CaseWorkflow[Any, Any]],
    example_id: str,
) -> None:
    """Add `GET ""`, `POST "/escalations"` and `GET "/{<short noun>_id}"` for `kind` to `router`.

    `model` is the response model of one case; `workflow(service)` is the kind's workflow
    in a `SelfService`; `example_id` is an example of a case id for the document.
    """
    words, provider_sees = kind.words, kind.provider is not None
    noun, plural, id_name = words.noun, f"{words.noun}s", f"{words.short}_id"
    Filter = CaseFilter[kind.statuses]  # type: ignore[name-defined]  # the kind's states, known at run time
    CaseId = Annotated[str, Path(alias=id_name, description=f"the {noun}'s id", examples=[example_id])]
    seen_by = "the record's provider, " if provider_sees else ""
    unseen = f"an institution sees no {plural}" if provider_sees else "not an enterprise, operator or auditor"

    @router.get(
        "",
        name=f"list_{words.name}s",
        response_model=list[model],  # type: ignore[valid-type]
        summary=f"{plural.capitalize()} the caller may see; `overdue=true` lists those past their deadline",
        description=(
            f"An enterprise names its own USCC and sees its {plural}; "
            + ("a provider sees those about its records; " if provider_sees else "")
            + "operators and auditors see all (optionally of one `subject`)."
        ),
        responses=rule_responses(rules.NotTheSubject, _403=unseen),
    )
    def listing(caller: CallerDep, service: SelfServiceDep, query: Annotated[Filter, Query()]) -> list[Any]:
        return workflow(service).listing(caller.address, caller.member, **dict(query))

    @router.post(
        "/escalations",
        name=f"escalate_{words.name}s",
        response_model=list[model],  # type: ignore[valid-type]
        summary=f"Escalate every overdue {noun}, once (operator)",
        description=f"For a scheduler or an operator: each open {noun} past its deadline and not yet "
        "escalated is escalated (a log leaf and a notice to the enterprise); returns those escalated now.",
        responses=rule_responses(_403="not an operator"),
    )
    def escalation(caller: CallerDep, service: SelfServiceDep) -> list[Any]:
        return workflow(service).escalate_overdue(caller.address, caller.member)

    @router.get(
        f"/{{{id_name}}}",
        name=f"get_{words.name}",
        response_model=model,
        summary=f"One {noun} (its enterprise, {seen_by}operators, auditors)",
        responses=rule_responses(kind.unknown, _403="not allowed to see it"),
    )
    def one(case_id: CaseId, caller: CallerDep, service: SelfServiceDep) -> Any:
        return workflow(service).get(caller.address, caller.member, case_id)

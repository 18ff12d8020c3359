"""Response models made from the ledger's view dataclasses, so a field is spelled once.

A service returns a frozen dataclass (a *view*); its fields, their order and their
documentation (`Annotated[..., Field(description=…, examples=…)]`) are written there.
`view_of` makes the response model from it, field for field, with pydantic's
`create_model`; a route returns the view and FastAPI validates it through the model
(`response_model=`, reading attributes). A field added to a view is answered and
documented without a second spelling.

What JSON writes differently from the Python value is said here, once:

- `bytes` are 0x-prefixed lower-case hex (`Hex`), wherever they appear;
- a dataclass nested in a view is written with the model named for it in `nested`;
- `wire` names the fields written as another type: `DecimalText` for 256-bit masks
  (JSON numbers lose precision beyond 2**53), `IsoText` for instants written with
  `datetime.isoformat`, `str` for an enum documented as plain text.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Self, TypeVar, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, BeforeValidator, ConfigDict, create_model

__all__ = ["DecimalText", "Hex", "IsoText", "ViewModel", "view_of"]


def _hex(value: Any) -> Any:
    return "0x" + value.hex() if isinstance(value, bytes | bytearray | memoryview) else value


def _decimal(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


#: bytes as 0x + hex
Hex = Annotated[str, BeforeValidator(_hex)]
#: an integer as decimal text (bit masks up to 2**256)
DecimalText = Annotated[str, BeforeValidator(_decimal)]
#: a date or an instant as `isoformat()` writes it (an aware UTC instant ends in +00:00)
IsoText = Annotated[str, BeforeValidator(_iso)]


class ViewModel(BaseModel):
    """Base of the models `view_of` makes: built from a view's attributes."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, view: Any) -> Self:
        return cls.model_validate(view)


Model = TypeVar("Model", bound=ViewModel)


def view_of(
    view: type[Any],
    *,
    examples: list[dict[str, Any]] | None = None,
    nested: Mapping[type[Any], type[BaseModel]] | None = None,
    wire: Mapping[str, Any] | None = None,
) -> Callable[[type[Model]], type[Model]]:
    """A class decorator: the model it decorates, given the fields of dataclass `view`.

    The fields come in the view's order, documented as there. `examples` are whole answers
    for the OpenAPI document; `nested` maps a dataclass used in a field to its model;
    `wire` gives fields a JSON type other than their own (their documentation is kept).
    The decorated class adds nothing but its name (and `ViewModel.of`); pydantic's
    `create_model` makes the model, a subclass of it with the same name.
    """

    def made(model: type[Model]) -> type[Model]:
        hints = get_type_hints(view, include_extras=True)
        replace, overrides = nested or {}, wire or {}
        fields: dict[str, Any] = {}
        for field in dataclasses.fields(view):
            annotation = hints[field.name]
            if field.name in overrides:
                annotation = _retyped(annotation, overrides[field.name])
            default = ... if field.default is dataclasses.MISSING else field.default
            fields[field.name] = (_on_the_wire(annotation, replace), default)
        config = {"json_schema_extra": {"examples": examples}} if examples else None
        return create_model(
            model.__name__, __base__=model, __module__=model.__module__, __cls_kwargs__=config, **fields
        )

    return made


def _retyped(annotation: Any, to: Any) -> Any:
    """`to`, keeping the documentation `annotation` carries (its `Annotated` metadata)."""
    if get_origin(annotation) is Annotated:
        return Annotated[to, *annotation.__metadata__]
    return to


def _on_the_wire(annotation: Any, nested: Mapping[type[Any], type[BaseModel]]) -> Any:
    """`annotation` with bytes as `Hex` and nested dataclasses as their models, at any depth."""
    if annotation is bytes:
        return Hex
    if isinstance(annotation, type) and annotation in nested:
        return nested[annotation]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return Annotated[_on_the_wire(args[0], nested), *annotation.__metadata__]
    if origin in (Union, types.UnionType):
        return functools.reduce(operator.or_, (_on_the_wire(a, nested) for a in args))
    if origin in (list, tuple, dict):
        return origin[tuple(a if a is Ellipsis else _on_the_wire(a, nested) for a in args)]
    return annotation

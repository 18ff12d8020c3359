"""The edge and the routes agree on who may send a large body.

The edge (`api.edge.BODY_ROUTES`) reads a body past its small unauthenticated cap only
for a claimed signer holding the route's roles, before routing; the route's
`RequireSignedBody` dependency then requires the same roles of the authenticated signer.
"""

from __future__ import annotations

from typing import cast

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from api.app import create_app
from api.deps import RequireSignedBody, authenticated
from api.edge import BODY_ROUTES
from ledger.platform import Platform


def _signed_body_roles() -> dict[tuple[str, str], tuple[object, ...]]:
    app = create_app(cast(Platform, None))  # the routes need no platform
    found: dict[tuple[str, str], tuple[object, ...]] = {}
    for context in iter_route_contexts(app.routes):
        route = context.route
        if not isinstance(route, APIRoute):
            continue
        for dependency in route.dependant.dependencies:
            if isinstance(dependency.call, RequireSignedBody):
                assert any(d.call is authenticated for d in dependency.dependencies)
                for method in context.methods or ():
                    found[(method, str(context.path_format))] = dependency.call.roles
    return found


SIGNED_BODIES = _signed_body_roles()


def test_every_route_taking_a_signed_body_has_its_limit_at_the_edge() -> None:
    assert set(SIGNED_BODIES) == {key for key, route in BODY_ROUTES.items() if route.roles}


@pytest.mark.parametrize("key", sorted(SIGNED_BODIES))
def test_the_edge_admits_a_large_body_from_the_roles_the_route_requires(key: tuple[str, str]) -> None:
    assert BODY_ROUTES[key].roles == SIGNED_BODIES[key]

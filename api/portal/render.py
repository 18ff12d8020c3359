"""A portal page: a template of `templates/`, rendered in the reader's language."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.portal import words
from api.portal.assets import PAGE_SCRIPTS, asset_url
from api.portal.i18n import HTML_LANG, LOCALES, N_, environment
from api.portal.session import CSRF_FIELD, CSRF_HEADER, PortalUser, locale

#: every page forbids scripts, styles, fonts, frames and connections from anywhere but the platform
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


#: each role's name, translated where it is shown
ROLE_NAMES = {
    "operator": N_("Operator"),
    "provider": N_("Data provider"),
    "institution": N_("Institution"),
    "enterprise": N_("Enterprise"),
    "auditor": N_("Auditor"),
}


def render(
    request: Request, template: str, user: PortalUser | None = None, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """`template` with `context`, the reader's language, the member and the session's CSRF token.

    An htmx request (`HX-Request`) for a page's part gets the same template: a template that
    is also a fragment checks `partial`.
    """
    chosen = user.locale if user is not None else locale(request)
    page = environment(chosen).get_template(template)
    html = page.render(
        request=request,
        user=user,
        locale=chosen,
        html_lang=HTML_LANG[chosen],
        locales=LOCALES,
        csrf_token=user.session.csrf_token if user is not None else "",
        csrf_field=CSRF_FIELD,
        csrf_header=CSRF_HEADER,
        asset=asset_url,
        page_scripts=PAGE_SCRIPTS,
        role_names=ROLE_NAMES,
        status_words=words.STATUS_WORDS,
        kind_words=words.KIND_WORDS,
        masking_words=words.MASKING_WORDS,
        notice_words=words.NOTICE_WORDS,
        severity_words=words.SEVERITY_WORDS,
        payload_words=words.PAYLOAD_WORDS,
        finding_words=words.FINDING_WORDS,
        partial=request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true",
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response

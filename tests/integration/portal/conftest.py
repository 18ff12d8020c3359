"""Browser tests of the portal: Debian's Chromium driven by Playwright (pytest-playwright).

One browser for these tests (pytest-playwright's fixtures, with `playwright` and `browser`
scoped to this package: see below), launched from `/usr/bin/chromium` (no browser
download), a fresh context per test. The platform is the
release tests' `world` (anvil, SQLite, members admitted, sample records) served over
real HTTP (`live_api`). Helpers:

- `Visit`: a page that logs every request it makes (`local_only` checks that each went to
  127.0.0.1; `bodies` holds every request body sent, to show no key or keystore left);
- `axe(page)`: injects the vendored axe-core (served by the platform itself) and fails on
  any serious or critical violation;
- `shoot(page, name)`: a full-page screenshot kept under `test-artifacts/portal/`;
- `keystore(account, tmp_path)`: the account's key in a Web3 secret-storage v3 file (scrypt
  with a small n, so the browser opens it in a moment; the CLI writes n = 2**18);
- `sign_in(visit, keystore)`: the sign-in page, the keystore opened and the challenge signed
  in the browser;
- `as_enterprise(visit, world, directory)`: signed in as the world's enterprise (its USCC given);
- `open_page(page, link, heading)`: a page reached by its link in the navigation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from playwright.sync_api import Browser, BrowserType, Page, Playwright, Request, sync_playwright

from tests.integration.test_release import SUBJECT, World, live_api, world  # noqa: F401

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "portal"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"  # a test keystore's password
AXE_BLOCKING = ("serious", "critical")


# One browser for the portal's tests, not for the whole session: pytest-playwright's session
# fixtures would keep Playwright's event loop set as running in this thread after the last
# browser test, and a later test of the same worker calling asyncio.run() would be refused.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    return getattr(playwright, browser_name)  # type: ignore[no-any-return]


@pytest.fixture(scope="package")
def launch_browser(
    browser_type_launch_args: dict[str, Any], browser_type: BrowserType
) -> Callable[..., Browser]:
    def launch(**kwargs: Any) -> Browser:
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="package")
def browser(launch_browser: Callable[..., Browser]) -> Iterator[Browser]:
    opened = launch_browser()
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    assert Path(CHROMIUM).is_file(), "Debian's chromium is needed (scripts/bootstrap installs it as root)"
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ["--no-sandbox"]}


@pytest.fixture(scope="package")
def browser_context_args() -> dict[str, Any]:
    return {"locale": "zh-CN", "viewport": {"width": 1280, "height": 900}}


@dataclass
class Visit:
    """A page of the portal at `base`, and every request it made."""

    page: Page
    base: str
    requests: list[Request] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def local_only(self) -> None:
        hosts = {urlsplit(r.url).hostname for r in self.requests if not r.url.startswith("data:")}
        assert hosts == {"127.0.0.1"}, f"requests left the platform: {sorted(map(str, hosts))}"

    def sent(self) -> str:
        """Everything the page sent: each request's URL and body."""
        return "\n".join(f"{r.url}\n{r.post_data or ''}" for r in self.requests)


@pytest.fixture
def visit(page: Page, live_api: str) -> Iterator[Visit]:  # noqa: F811
    seen = Visit(page, live_api)
    page.on("request", lambda request: seen.requests.append(request))
    page.set_default_timeout(20_000)
    yield seen


def axe(page: Page) -> list[dict[str, Any]]:
    """Run the vendored axe-core on `page`; fails on any serious or critical violation."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/portal/assets/axe.min.js")  # from the platform: the CSP allows it
    violations: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    blocking = [v for v in violations if v.get("impact") in AXE_BLOCKING]
    assert blocking == [], json.dumps(
        [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"][:3]]}
            for v in blocking
        ],
        ensure_ascii=False,
        indent=1,
    )
    return violations


def shoot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def keystore(account: LocalAccount, directory: Path) -> Path:
    path = directory / f"{account.address}.json"
    path.write_text(json.dumps(Account.encrypt(account.key, PASSWORD, iterations=2**12)))
    return path


def sign_in(visit: Visit, keystore_path: Path, *, expect: str = "/portal/", subject: str = "") -> None:
    """Sign in on the sign-in page; an enterprise gives its USCC (`subject`)."""
    visit.goto("/portal/signin")
    visit.page.set_input_files("#keystore", str(keystore_path))
    visit.page.fill("#password", PASSWORD)
    if subject:
        visit.page.fill("#subject", subject)
    visit.page.click("form[data-signin] button[type=submit]")
    if expect:
        visit.page.wait_for_url(f"**{expect}**")


def as_enterprise(visit: Visit, of: World, directory: Path) -> Page:
    """Signed in as the enterprise `of` a world, with its keystore in `directory`; its home page."""
    sign_in(visit, keystore(of.enterprise, directory), expect="/portal/enterprise/", subject=SUBJECT)
    return visit.page


def open_page(page: Page, link: str, heading: str | None = None) -> None:
    """Follow the navigation's `link`; wait for the page's `heading` (the link's text by default)."""
    page.get_by_role("navigation").get_by_role("link", name=link).click()
    page.wait_for_selector(f"h1:text('{heading or link}')")

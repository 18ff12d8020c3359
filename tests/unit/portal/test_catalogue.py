"""Every string of the portal is translated: pybabel's extractors against the zh_CN catalogue."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from api.portal.i18n import catalogue, catalogue_files, environment, translations

ROOT = Path(__file__).resolve().parents[3]
METHODS = [
    ("api/portal/**.py", "python"),
    ("api/portal/templates/**.html", "jinja2"),
]
OPTIONS = {"api/portal/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true"}}


def extracted() -> set[str]:
    found = extract_from_dir(
        str(ROOT),
        method_map=METHODS,
        options_map=OPTIONS,
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
    )
    return {message if isinstance(message, str) else message[0] for _f, _l, message, _c, _x in found}


def test_every_marked_string_has_its_chinese_and_none_is_fuzzy_or_stale() -> None:
    marked = extracted()
    assert len(marked) > 20  # the extraction found the templates
    held = {m.id: m for m in catalogue("zh_CN") if m.id}
    assert sorted(marked - held.keys()) == [], "untranslated: add them to messages.po"
    assert sorted(held.keys() - marked) == [], "stale: no longer in any template or module"
    assert [m.id for m in held.values() if not m.string or m.fuzzy] == []


def test_pages_render_in_chinese_by_default_and_in_english_on_request() -> None:
    assert catalogue_files("zh_CN")[0].name == "messages.po"
    assert translations("zh_CN").gettext("Sign in") == "登录"
    assert translations("en").gettext("Sign in") == "Sign in"
    assert environment("zh_CN").from_string("{{ _('Sign out') }}").render() == "退出登录"

"""Every string of the portal is translated: pybabel's extractors against the zh_CN catalogue."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from api.portal.i18n import (
    FIELD_CONTEXT,
    catalogue,
    catalogue_files,
    environment,
    field_name,
    field_value,
    translations,
)
from api.portal.words import FINDING_WORDS, PAYLOAD_WORDS, SEVERITY_WORDS
from ledger.alerts.rules import Severity
from ledger.audit.findings import Step
from ledger.domain.catalogue import default_catalogue, packaged_catalogues

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
    held = {m.id: m for m in catalogue("zh_CN") if m.id and not m.context}  # not the catalogue's values
    assert sorted(marked - held.keys()) == [], "untranslated: add them to messages.po"
    assert sorted(held.keys() - marked) == [], "stale: no longer in any template or module"
    assert [m.id for m in held.values() if not m.string or m.fuzzy] == []


def test_pages_render_in_chinese_by_default_and_in_english_on_request() -> None:
    assert catalogue_files("zh_CN")[0].name == "messages.po"
    assert translations("zh_CN").gettext("Sign in") == "登录"
    assert translations("en").gettext("Sign in") == "Sign in"
    assert environment("zh_CN").from_string("{{ _('Sign out') }}").render() == "退出登录"


def test_every_catalogue_field_has_its_english_name_and_none_is_stale() -> None:
    fields = {f.name: f for c in packaged_catalogues() for cat in c.categories for f in cat.fields}
    held = {m.id: m.string for m in catalogue("en") if m.id and m.context == FIELD_CONTEXT}
    assert sorted(fields.keys() - held.keys()) == [], "no English name: add them to en/LC_MESSAGES/fields.po"
    assert sorted(held.keys() - fields.keys()) == [], "stale: no packaged catalogue has these fields"
    assert [name for name, english in held.items() if not english or is_chinese_text(english)] == []
    tax_officer = default_catalogue().category("tax").field("tax_officer_name")
    assert field_name(tax_officer, "zh_CN") == tax_officer.name_zh == "办税人员姓名"
    assert field_name(tax_officer, "en") == "Tax officer's name"
    page = environment("en").from_string("{{ field_name(f) }}|{{ _('Sign in') }}")
    assert page.render(f=tax_officer) == "Tax officer&#39;s name|Sign in"  # English msgids stay as written


def test_every_enumerated_value_is_said_in_both_languages_and_none_is_stale() -> None:
    codes = {
        (f"{cat.name}.{f.name}", code)
        for c in packaged_catalogues()
        for cat in c.categories
        for f in cat.fields
        for code in f.enum_values or ()
    }
    for locale in ("zh_CN", "en"):
        held = {(m.context, m.id): m.string for m in catalogue(locale) if m.id and m.context != FIELD_CONTEXT}
        held = {key: said for key, said in held.items() if key[0] is not None}
        assert sorted(codes - held.keys()) == [], f"unsaid in {locale}: add them to values.po"
        assert sorted(held.keys() - codes) == [], f"stale in {locale}: no packaged catalogue has these"
        assert all(said and is_chinese_text(said) == (locale == "zh_CN") for said in held.values())
    tax = default_catalogue().category("tax")
    grade, officer = tax.field("taxpayer_type"), tax.field("tax_officer_name")
    assert field_value("tax", grade, "small_scale_taxpayer", "zh_CN") == "小规模纳税人"
    assert field_value("tax", grade, "small_scale_taxpayer", "en") == "Small-scale taxpayer"
    assert field_value("tax", officer, "王*", "en") == "王*"  # not a code: as it is
    assert field_value("tax", grade, "unheard_of", "zh_CN") == "unheard_of"  # a code no catalogue has
    assert (field_value("tax", officer, True, "zh_CN"), field_value("tax", officer, False, "en")) == (
        "是",
        "No",
    )


def is_chinese_text(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_every_audit_step_alert_severity_and_payload_key_is_said_in_both_languages() -> None:
    assert FINDING_WORDS.keys() == {s.value for s in Step}  # a finding is said by its step
    assert SEVERITY_WORDS.keys() == {s.value for s in Severity}
    chinese = translations("zh_CN")
    for words in (FINDING_WORDS, SEVERITY_WORDS, PAYLOAD_WORDS):
        for english in words.values():
            assert is_chinese_text(chinese.gettext(english)), english
    said = chinese.gettext(FINDING_WORDS[Step.RECORD_VERSION.value])
    assert said == "某条已存储的记录版本与其日志条目不符。"


def test_catalogue_masks_are_named_in_the_readers_language_by_one_helper() -> None:
    cat = default_catalogue()
    tax, credit = cat.category("tax"), cat.purpose("credit_assessment")
    mask = 1 << tax.bit | 1 << 60
    assert cat.names_in_mask(mask) == ["tax"]  # data: an unknown bit left out, the mask kept beside
    assert cat.names_in_mask(mask, locale="zh-CN") == [tax.name_zh, "#60"]  # a person: shown as such
    assert cat.names_in_mask(mask, locale="zh_CN") == [tax.name_zh, "#60"]
    assert cat.names_in_mask(mask, locale="en") == [tax.name_en, "#60"]
    assert cat.names_in_mask(1 << credit.bit, purposes=True, locale="en") == [credit.name_en]
    assert cat.names_in_mask(0, locale="en") == []

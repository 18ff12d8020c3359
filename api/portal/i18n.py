"""The portal's languages: zh-CN by default, English on request; one Jinja2 environment for each.

Strings are written in English in the templates (`{{ _("...") }}`) and in Python (`N_`
markers here); the .po files of `locales/zh_CN/LC_MESSAGES/` hold their Chinese
(`messages.po`, and one file per role's pages, so that each adds its own). English needs a
catalogue only for what has no English source text: the catalogue's fields, named in
Chinese only, get their English names from `locales/en/LC_MESSAGES/fields.po` (context
"field", `field_name`); the values of its enumerated fields, held as codes, are said in
both languages by `values.po` (context "<category>.<field>", `field_value`). The catalogue is
compiled in memory when first used (Babel reads the .po files and writes the .mo to a
buffer), so there is no build step and no compiled file to drift from its source.
`tests/unit/portal/test_catalogue.py` extracts every marked string (pybabel's own extractors)
and fails on any without its Chinese.
"""

from __future__ import annotations

import gettext
from datetime import UTC, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ledger.domain.catalogue import Field, is_chinese

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
LOCALES_DIR = HERE / "locales"
DEFAULT_LOCALE = "zh_CN"
#: the languages offered, each named in itself
LOCALES = {"zh_CN": "中文", "en": "English"}
#: the language a page's `<html lang>` declares
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
#: the message context of a catalogue field's English name
FIELD_CONTEXT = "field"


def N_(message: str) -> str:
    """Marks `message` for extraction; the template translates it where it is shown."""
    return message


def catalogue_files(locale: str) -> list[Path]:
    """The .po files of `locale`: `messages.po` (the skeleton's), one more per role's pages."""
    return sorted((LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po"))


def catalogue(locale: str) -> Catalog:
    """Every .po file of `locale` in one catalogue (a message in two files: the later wins)."""
    merged = Catalog(locale=locale)
    for path in catalogue_files(locale):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=locale):
                if message.id:
                    merged[message.id] = message
    return merged


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalogue of `locale` (English, the source language, holds only field names)."""
    compiled = BytesIO()
    write_mo(compiled, catalogue(locale))
    compiled.seek(0)
    return Translations(fp=compiled)


@cache
def environment(locale: str) -> Environment:
    """The templates rendered in `locale` (autoescaped, `_` and `ngettext` bound to its catalogue)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["datetime"] = _datetime
    env.globals["field_name"] = lambda field: field_name(field, locale)
    env.globals["field_value"] = lambda category, field, value: field_value(category, field, value, locale)
    return env


def field_name(field: Field, locale: str) -> str:
    """A catalogue field's name in `locale`: the catalogue's own in Chinese, the en catalogue's
    in English (the field's key when it has none: `test_catalogue` checks every field has one)."""
    if is_chinese(locale):
        return field.name_zh
    return translations("en").pgettext(FIELD_CONTEXT, field.name)


def field_value(category: str, field: Field, value: Any, locale: str) -> Any:
    """A record's value of `field` (of `category`) as a reader of `locale` reads it: an enumerated
    code in words, a yes/no in words; any other value (and a code no catalogue file names, such
    as a masked one) as it is."""
    if isinstance(value, bool):
        said = translations(locale)
        return said.gettext("Yes") if value else said.gettext("No")
    if field.enum_values and isinstance(value, str) and value in field.enum_values:
        return translations(locale).pgettext(f"{category}.{field.name}", value)
    return value


def _datetime(seconds: int) -> str:
    """Unix seconds (a chain timestamp) as a UTC date and time."""
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%d %H:%M UTC")


def locale_of(cookie: str | None) -> str:
    return cookie if cookie in LOCALES else DEFAULT_LOCALE

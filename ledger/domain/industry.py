"""GB/T 4754-2017 industry codes (国民经济行业分类): sections and divisions.

An enterprise's industry is written as its section letter and two-digit division code,
e.g. ``C39`` (制造业 / 计算机、通信和其他电子设备制造业). The standard fixes which
divisions each section holds, so ``C01`` (a division of section A) is refused rather
than stored as a code no statistic would count. Eligibility rules may also name a whole
section (``C``): a division belongs to the section its letter names.
"""

from __future__ import annotations

import re

__all__ = ["SECTIONS", "InvalidIndustryCode", "check_industry", "check_industry_or_section", "in_industry"]

#: section letter -> (first division, last division, name_zh), GB/T 4754-2017 (with amendment 1, 2019)
SECTIONS: dict[str, tuple[int, int, str]] = {
    "A": (1, 5, "农、林、牧、渔业"),
    "B": (6, 12, "采矿业"),
    "C": (13, 43, "制造业"),
    "D": (44, 46, "电力、热力、燃气及水生产和供应业"),
    "E": (47, 50, "建筑业"),
    "F": (51, 52, "批发和零售业"),
    "G": (53, 60, "交通运输、仓储和邮政业"),
    "H": (61, 62, "住宿和餐饮业"),
    "I": (63, 65, "信息传输、软件和信息技术服务业"),
    "J": (66, 69, "金融业"),
    "K": (70, 70, "房地产业"),
    "L": (71, 72, "租赁和商务服务业"),
    "M": (73, 75, "科学研究和技术服务业"),
    "N": (76, 79, "水利、环境和公共设施管理业"),
    "O": (80, 82, "居民服务、修理和其他服务业"),
    "P": (83, 83, "教育"),
    "Q": (84, 85, "卫生和社会工作"),
    "R": (86, 90, "文化、体育和娱乐业"),
    "S": (91, 96, "公共管理、社会保障和社会组织"),
    "T": (97, 97, "国际组织"),
}

_CODE = re.compile(r"^([A-T])(\d{2})$")


class InvalidIndustryCode(ValueError):
    """Not a GB/T 4754-2017 section letter + division code; `rule` names what is wrong."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


def check_industry(code: str) -> str:
    """`code` if it is a division of its section (``C39``); `InvalidIndustryCode` otherwise."""
    m = _CODE.match(code)
    if m is None:
        raise InvalidIndustryCode(
            "format", f"{code!r} is not a GB/T 4754-2017 section letter A-T and two-digit division, e.g. C39"
        )
    section, division = m.group(1), int(m.group(2))
    first, last, name = SECTIONS[section]
    if not first <= division <= last:
        raise InvalidIndustryCode(
            "division",
            f"{code!r}: division {division:02d} is not in section {section} ({name}: {first:02d}-{last:02d})",
        )
    return code


def check_industry_or_section(code: str) -> str:
    """A section letter (``C``) or a division code (``C39``); `InvalidIndustryCode` otherwise."""
    if len(code) == 1 and code in SECTIONS:
        return code
    return check_industry(code)


def in_industry(code: str, wanted: str) -> bool:
    """Whether division `code` is `wanted` (a division) or lies in it (a section letter)."""
    return code == wanted or (len(wanted) == 1 and code[:1] == wanted)

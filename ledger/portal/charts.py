"""Charts drawn on the server as inline SVG, so a page needs no script from anywhere.

`leather` (pure Python, no dependencies) draws the bars; this module only sizes the chart
to its bars, names it for assistive technology (`role="img"`, `<title>`) and strips the
XML prologue so the SVG can sit inside HTML. leather escapes every label it writes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from html import escape

import leather

__all__ = ["bar_chart"]

# The page's own sans-serif font (Noto CJK on the portal's machines) renders Chinese
# labels; leather's default, Monaco, has no CJK glyphs.
for _attribute in ("title", "tick", "legend", "axis_title"):
    setattr(leather.theme, f"{_attribute}_font_family", "sans-serif")

#: the portal's accent (static/portal.css `--accent`)
BAR_COLOUR = "#0b5cad"
_BAR_HEIGHT = 26
_CHROME = 70  # title, axis and margins


def bar_chart(title: str, bars: Sequence[tuple[str, float]], *, width: int = 560) -> str:
    """Horizontal bars (label, value) as SVG markup to embed in a page; empty string with no bars."""
    if not bars:
        return ""
    chart = leather.Chart()
    chart.add_bars([(float(value), label) for label, value in bars], fill_color=BAR_COLOUR)
    out = io.StringIO()
    chart.to_svg(out, width=width, height=_CHROME + _BAR_HEIGHT * len(bars))
    svg = out.getvalue()
    svg = svg[svg.index("<svg") :]
    head, rest = svg.split(">", 1)
    return f'{head} role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>{rest}'

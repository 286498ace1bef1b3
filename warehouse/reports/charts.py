"""Charts rendered offline to PNG (altair + vl-convert: no browser, no network)."""

from __future__ import annotations

import altair as alt
import vl_convert as vlc

# Charts of the rendered reports: labels come translated, fonts are the ones WeasyPrint uses too.
CHART_FONT = "DejaVu Sans"
BAR_COLOUR = "#546e7a"  # a bar without a status: neither good nor bad
# A bar with a status takes its colour, as the traffic lights of the tables do.
STATUS_COLOURS = {"green": "#2e7d32", "amber": "#e09b00", "red": "#c62828"}
LINE_COLOUR = "#1565c0"
TARGET_COLOUR = "#b00020"


# Axis and label numbers as in the report's text: tk and ru group with a no-break space and use
# a decimal comma.
_COMMA_DECIMALS = {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", ""]}
NUMBER_LOCALES: dict[str, str | dict[str, object]] = {
    "tk": _COMMA_DECIMALS,
    "ru": _COMMA_DECIMALS,
    "en": "en-US",
}


def _png(chart: alt.TopLevelMixin, language: str) -> bytes:
    configured = chart.configure(font=CHART_FONT).configure_view(stroke=None)
    return vlc.vegalite_to_png(
        configured.to_json(), scale=2, format_locale=NUMBER_LOCALES[language]
    )


def horizontal_bars(
    rows: list[tuple[str, float]],
    *,
    axis_title: str,
    value_format: str = ",.1f",
    reference: float | None = None,
    domain_max: float | None = None,
    width: int = 440,
    language: str = "en",
    statuses: list[str | None] | None = None,
) -> bytes:
    """One bar per category, labelled with its value; ``reference`` draws a dashed target line.
    With ``statuses`` (green, amber, red or None per row), each bar takes its status colour."""
    kinds = statuses or [None] * len(rows)
    data = [
        {"category": category, "value": value, "status": kind or "none"}
        for (category, value), kind in zip(rows, kinds, strict=True)
    ]
    base = alt.Chart(alt.Data(values=data))
    scale = alt.Scale(domain=[0, domain_max]) if domain_max else alt.Undefined
    colours = {**STATUS_COLOURS, "none": BAR_COLOUR}
    bars = base.mark_bar().encode(
        x=alt.X("value:Q", title=axis_title, scale=scale),
        y=alt.Y("category:N", sort=None, title=None, axis=alt.Axis(labelLimit=380)),
        color=alt.Color(
            "status:N",
            scale=alt.Scale(domain=list(colours), range=list(colours.values())),
            legend=None,
        ),
    )
    labels = base.mark_text(align="left", dx=3, fontSize=10).encode(
        x="value:Q", y=alt.Y("category:N", sort=None), text=alt.Text("value:Q", format=value_format)
    )
    layers = [bars, labels]
    if reference is not None:
        layers.append(
            alt.Chart(alt.Data(values=[{"reference": reference}]))
            .mark_rule(color=TARGET_COLOUR, strokeDash=[4, 3])
            .encode(x="reference:Q")
        )
    bar_height = 22 if len(data) <= 12 else 15
    chart = alt.layer(*layers).properties(width=width, height=max(60, bar_height * len(data)))
    return _png(chart, language)


def trend_line(
    points: list[tuple[str, float | None]],
    *,
    title: str,
    axis_title: str,
    target: float | None = None,
    width: int = 220,
    height: int = 120,
    language: str = "en",
) -> bytes:
    """A small line chart of one indicator over periods (labels in order), with its target."""
    data = [
        {"order": index, "period": label, "value": value}
        for index, (label, value) in enumerate(points)
        if value is not None
    ]
    base = alt.Chart(alt.Data(values=data))
    order = [label for label, _ in points]
    line = base.mark_line(color=LINE_COLOUR, point=alt.OverlayMarkDef(color=LINE_COLOUR)).encode(
        x=alt.X("period:N", sort=order, title=None, axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("value:Q", title=axis_title, scale=alt.Scale(zero=False)),
    )
    layers = [line]
    if target is not None:
        layers.append(
            alt.Chart(alt.Data(values=[{"target": target}]))
            .mark_rule(color=TARGET_COLOUR, strokeDash=[4, 3])
            .encode(y="target:Q")
        )
    chart = alt.layer(*layers).properties(
        width=width, height=height, title=alt.TitleParams(title, fontSize=10, anchor="start")
    )
    return _png(chart, language)

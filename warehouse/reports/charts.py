"""Charts rendered offline to PNG (altair + vl-convert: no browser, no network)."""

from __future__ import annotations

import altair as alt
import polars as pl
import vl_convert as vlc


def progress_by_province_chart(provinces: pl.DataFrame, title: str) -> bytes:
    """Horizontal bars: each province's progress against its plan (%), with 100 % marked."""
    data = provinces.select(
        pl.col("region_name_tk").alias("province"),
        pl.col("progress_pct").alias("progress"),
    ).to_dicts()
    base = alt.Chart(alt.Data(values=data))
    bars = base.mark_bar(color="#2e7d32").encode(
        x=alt.X("progress:Q", title="% of state order", scale=alt.Scale(domain=[0, 110])),
        y=alt.Y("province:N", sort="-x", title=None),
    )
    labels = base.mark_text(align="left", dx=3, fontSize=11).encode(
        x="progress:Q", y=alt.Y("province:N", sort="-x"), text=alt.Text("progress:Q", format=".1f")
    )
    plan_line = (
        alt.Chart(alt.Data(values=[{"plan": 100}]))
        .mark_rule(color="#b00020", strokeDash=[4, 3])
        .encode(x="plan:Q")
    )
    chart = (bars + labels + plan_line).properties(width=460, height=28 * len(data), title=title)
    return vlc.vegalite_to_png(chart.to_json(), scale=2)

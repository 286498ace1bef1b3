"""A chart's bars take the colour of their status, as the tables' traffic lights do."""

from __future__ import annotations

import io

from PIL import Image

from warehouse.reports.charts import BAR_COLOUR, STATUS_COLOURS, horizontal_bars


def _pixels_of(png: bytes, colour: str) -> int:
    wanted = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(count for count, rgb in image.getcolors(maxcolors=1 << 20) or [] if rgb == wanted)


def test_a_red_indicator_is_a_red_bar_and_a_green_one_green() -> None:
    png = horizontal_bars(
        [("Pagta", 24.5), ("Bugdaý", 98.2)],
        statuses=["red", "green"],
        axis_title="%",
        reference=100.0,
    )
    assert _pixels_of(png, STATUS_COLOURS["red"]) > 500
    assert _pixels_of(png, STATUS_COLOURS["green"]) > 500
    assert _pixels_of(png, BAR_COLOUR) == 0
    # the red bar is the shorter one: a quarter of the green one's length
    assert _pixels_of(png, STATUS_COLOURS["red"]) < _pixels_of(png, STATUS_COLOURS["green"]) / 2


def test_bars_without_a_status_are_neutral_not_green() -> None:
    png = horizontal_bars([("SCS", 56.0), ("MTX", 91.0)], axis_title="%")
    assert _pixels_of(png, BAR_COLOUR) > 500
    assert all(_pixels_of(png, colour) == 0 for colour in STATUS_COLOURS.values())

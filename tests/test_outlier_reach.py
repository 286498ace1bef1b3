"""The gate keeps of a table's loaded history only what its rolling outlier rules can still read
(each group's last ``window`` judged values), chosen in SQL at the start of a run and brought up
to date after each batch. Every batch must get the verdict the whole history would give it,
through new days, late rows for old days, zeros and empty values, and a correction that replaces
a batch whose rows were within reach."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb
import polars as pl

from quality.outliers import find_outliers, within_reach
from quality.suites import OutlierRule, TableSuite
from warehouse.raw import outlier_history, raw_table, refresh_outlier_history

SYSTEM, TABLE = "plants", "daily_output"
FIRST_DAY = dt.date(2023, 9, 1)
GROUPS = [(plant, product) for plant in ("AHL-01", "BAL-02", "LEB-03") for product in ("P1", "P2")]
RULES = (
    # A slip of the pen: the quantity against the median of the pair's last 7 positive values.
    OutlierRule(
        column="quantity",
        group_by=("plant_code", "product_code"),
        method="ratio",
        order_by="report_date",
        window=7,
        max_ratio=3.0,
        min_history=3,
    ),
    # The quantity against the product's last 12 values, whatever the plant: a plain z-score
    # over another group.
    OutlierRule(
        column="quantity",
        group_by=("product_code",),
        order_by="report_date",
        window=12,
        threshold=3.5,
        min_history=4,
    ),
    # The yield per hour worked against the plant's last 10 values: another column, another
    # group and window, so that the rows kept are the union of what the rules read.
    OutlierRule(
        column="quantity",
        group_by=("plant_code",),
        order_by="report_date",
        window=10,
        threshold=3.5,
        min_history=4,
        per="hours",
    ),
)
SUITE = TableSuite(
    source=SYSTEM,
    table=TABLE,
    columns={
        "plant_code": "string",
        "product_code": "string",
        "report_date": "date",
        "quantity": "double",
        "hours": "double",
    },
    outliers=RULES,
)
COLUMNS = ["hours", "plant_code", "product_code", "quantity", "report_date", "_batch_id"]


def _day_rows(day: int, generator: random.Random) -> list[dict[str, object]]:
    rows = []
    for plant, product in GROUPS:
        quantity: float | None = round(generator.uniform(80, 120), 1)
        roll = generator.random()
        if roll < 0.08:
            quantity = 0.0  # a stopped plant: never judged, never a reference
        elif roll < 0.12:
            quantity = None
        elif roll < 0.17:
            quantity = quantity * 10  # a slip
        hours = 0.0 if generator.random() < 0.05 else 8.0
        rows.append(
            {
                "plant_code": plant,
                "product_code": product,
                "report_date": FIRST_DAY + dt.timedelta(days=day),
                "quantity": quantity,
                "hours": hours,
            }
        )
    return rows


def _batches() -> list[tuple[str, list[dict[str, object]]]]:
    """Forty daily batches, two of them carrying a late row for a day long gone, one a second
    row for a pair and day (a tie in the window's order), and a correction of the 36th day
    that withdraws one row and zeroes others: older values come back into those windows."""
    generator = random.Random(20230901)
    batches = [(f"day-{day:02d}", _day_rows(day, generator)) for day in range(40)]
    batches[20][1].append(_day_rows(3, generator)[0])
    batches[30][1].append(_day_rows(2, generator)[5])
    batches[33][1].append(_day_rows(33, generator)[1])
    # A row without its date, and one without its plant: the oldest of their groups, and a
    # group of their own.
    batches[25][1].append({**_day_rows(25, generator)[2], "report_date": None})
    batches[27][1].append({**_day_rows(27, generator)[3], "plant_code": None})
    corrected = [
        {**row, "quantity": 0.0 if index % 2 else 55.5, "hours": 8.0 if index % 3 else 0.0}
        for index, row in enumerate(batches[36][1][1:])
    ]
    return [*batches[:38], ("day-36", corrected), *batches[38:]]


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "plant_code": pl.String,
            "product_code": pl.String,
            "report_date": pl.Date,
            "quantity": pl.Float64,
            "hours": pl.Float64,
        },
    )


def _load(connection: duckdb.DuckDBPyConnection, batch_id: str, batch: pl.DataFrame) -> None:
    """What the load does to raw: a batch loaded again replaces its earlier rows."""
    loaded = batch.with_columns(pl.lit(batch_id).alias("_batch_id"))
    connection.execute(f"delete from {raw_table(SYSTEM, TABLE)} where _batch_id = ?", [batch_id])
    connection.register("loaded_batch", loaded)
    connection.execute(f"insert into {raw_table(SYSTEM, TABLE)} by name select * from loaded_batch")
    connection.unregister("loaded_batch")


def _whole_history(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    selected = ", ".join(COLUMNS)
    return connection.execute(
        f"select {selected} from {raw_table(SYSTEM, TABLE)} order by rowid"
    ).pl()


def test_each_batch_is_judged_as_against_the_whole_history(tmp_path: Path) -> None:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    connection.execute("create schema raw")
    connection.execute(
        f"create table {raw_table(SYSTEM, TABLE)} (plant_code varchar, product_code varchar,"
        " report_date date, quantity double, hours double, _batch_id varchar)"
    )
    history = outlier_history(connection, SYSTEM, TABLE, SUITE)
    assert history is not None
    assert history.height == 0
    alarms = 0
    for batch_id, rows in _batches():
        batch = _frame(rows)
        whole = _whole_history(connection)
        for rule in RULES:
            expected = find_outliers(batch, whole, rule)
            assert find_outliers(batch, history, rule) == expected, (batch_id, rule.column)
            alarms += len(expected)
        _load(connection, batch_id, batch)
        history = refresh_outlier_history(connection, SYSTEM, TABLE, history, batch_id, SUITE)
        # Brought up to date in memory, it is what a new run would choose from raw in SQL,
        # and what the rules' own reach keeps of the whole history, row for row.
        chosen = outlier_history(connection, SYSTEM, TABLE, SUITE)
        assert chosen is not None
        assert history.equals(chosen.select(history.columns)), batch_id
        assert history.equals(within_reach(_whole_history(connection), RULES)), batch_id
    # The slips were there to be found, and the history kept is bounded by the windows: at most
    # 7 values for each of the 6 pairs (and the plantless one), 12 for each of the 2 products
    # and 10 for each of the 3 plants (and none), not 40 days of them.
    assert alarms >= 10
    assert _whole_history(connection).height > 240
    assert history.height <= 7 * 7 + 2 * 12 + 4 * 10


def test_rules_that_read_all_history_keep_all_of_it(tmp_path: Path) -> None:
    seasonal = OutlierRule(
        column="quantity", group_by=("plant_code",), period="report_date", max_ratio=4.0
    )
    suite = TableSuite(source=SYSTEM, table=TABLE, columns=SUITE.columns, outliers=(seasonal,))
    whole = _frame([row for _, rows in _batches()[:10] for row in rows]).with_columns(
        pl.lit("b").alias("_batch_id")
    )
    assert within_reach(whole, suite.outliers).equals(whole)
    assert within_reach(whole, (*RULES, seasonal)).equals(whole)
    assert within_reach(whole, RULES).height < whole.height

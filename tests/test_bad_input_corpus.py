"""The bad-input corpus: what a ministry's exports really look like when they go wrong.

Each case drops one daily file of the fuel-and-energy dispatch centre into its inbox, then runs
the real extractor and the real gate. What the corpus pins down for every case: the outcome
(loaded, rows quarantined, batch held, or file rejected), the message naming the file, row and
field, and that nothing is lost: every delivered row is loaded, quarantined or held, and the
file itself is kept (in processed/ or rejected/). That a held batch leaves the last good
snapshot unchanged is shown end to end in tests/test_pipeline.py and tests/test_steward.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pytest

from maglumat.catalogue import load_catalogue
from maglumat.settings import MaglumatPaths
from pipelines.extract import file_inbox
from pipelines.ingest import extract_to_landing, gate_and_load
from tests.support import age_file

SYSTEM = next(system for system in load_catalogue() if system.name == "fuel_energy_production")
TABLE = SYSTEM.table("daily_production")
HEADER = ["Sene", "Kärhananyň kody", "Önümiň kody", "Mukdary", "Iberilen wagty"]
ENTERPRISES = ["TGZ-GLK", "TGZ-DLT", "TNB-GTD", "ENR-MRY", "ENR-AHL"]
PRODUCTS = {
    "TGZ-GLK": "GAZ",
    "TGZ-DLT": "GAZ",
    "TNB-GTD": "NBT",
    "ENR-MRY": "ELK",
    "ENR-AHL": "ELK",
}


def _rows() -> list[list[str]]:
    """Twenty clean rows: five enterprises on four days."""
    rows = []
    for day in range(1, 5):
        for number, code in enumerate(ENTERPRISES):
            rows.append(
                [
                    f"2023-09-{day:02d}",
                    code,
                    PRODUCTS[code],
                    f"{20000 + 137 * number + day:.1f}",
                    f"2023-09-{day + 1:02d} 08:2{number}:00+05:00",
                ]
            )
    return rows


def _csv(header: list[str], rows: list[list[str]], separator: str = ",") -> bytes:
    lines = [separator.join(header)] + [separator.join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _with_row(index: int, **changes: str) -> Callable[[], bytes]:
    def build() -> bytes:
        rows = _rows()
        columns = {"date": 0, "enterprise": 1, "product": 2, "quantity": 3, "sent": 4}
        for name, value in changes.items():
            rows[index][columns[name]] = value
        return _csv(HEADER, rows)

    return build


@dataclass(frozen=True)
class Case:
    name: str
    content: Callable[[], bytes]
    outcome: str  # loaded | quarantined | held | rejected
    message: str = ""  # must appear in the reason / gate summary / quarantine
    quarantined: frozenset[int] = frozenset()  # rows of the file (1-based, after the header)


CASES = [
    Case("clean", lambda: _csv(HEADER, _rows()), "loaded"),
    Case(
        "windows-1251 with semicolons and decimal commas",
        lambda: (
            "Дата;Код предприятия;Код продукции;Количество;Время передачи\r\n"
            + "".join(
                f"0{day}.09.2023;{code};{PRODUCTS[code]};20 1{day}7,5;0{day + 1}.09.2023 08:15\r\n"
                for day in range(1, 5)
                for code in ENTERPRISES
            )
        ).encode("cp1251"),
        "loaded",
    ),
    Case("utf-8 with a byte order mark", lambda: b"\xef\xbb\xbf" + _csv(HEADER, _rows()), "loaded"),
    Case("empty file", lambda: b"", "rejected", "empty"),
    Case(
        "truncated file",
        lambda: _csv(HEADER, _rows())[:-30],
        "rejected",
        "the file looks truncated",
    ),
    Case(
        "ragged row",
        lambda: _csv(HEADER, [*_rows()[:4], [*_rows()[4], "extra"], *_rows()[5:]]),
        "rejected",
        "line 6 has 6 fields where the header has 5",
    ),
    Case(
        # Any one separator is detected ("|" as well as ";"): what goes wrong is a mix.
        "wrong delimiter in the rows",
        lambda: (";".join(HEADER) + "\n").encode() + _csv(HEADER, _rows()).split(b"\n", 1)[1],
        "rejected",
        "line 2 has 1 fields where the header has 5",
    ),
    Case(
        "another separator throughout is read all the same",
        lambda: _csv(HEADER, _rows(), separator="|"),
        "loaded",
    ),
    Case(
        "renamed column",
        lambda: _csv(
            ["Sene", "Kärhananyň kody", "Önümiň kody", "Mukdar", "Iberilen wagty"], _rows()
        ),
        "held",
        "missing columns ['quantity'], unexpected columns ['Mukdar']",
    ),
    Case(
        "missing column",
        lambda: _csv(HEADER[:4], [row[:4] for row in _rows()]),
        "held",
        "missing columns ['transmitted_at']",
    ),
    Case(
        "extra column",
        lambda: _csv([*HEADER, "Bellik"], [[*row, "-"] for row in _rows()]),
        "held",
        "unexpected columns ['Bellik']",
    ),
    Case(
        "negative quantity",
        _with_row(2, quantity="-512.0"),
        "quarantined",
        "expect_column_values_to_be_between:quantity:-512.0",
        frozenset({3}),
    ),
    Case(
        "date in the future",
        _with_row(6, date="2099-09-02"),
        "quarantined",
        "expect_column_values_to_be_between:report_date:2099-09-02",
        frozenset({7}),
    ),
    Case(
        "unknown enterprise code",
        _with_row(9, enterprise="XXX-123"),
        "quarantined",
        "expect_column_values_to_match_regex:enterprise_code:XXX-123",
        frozenset({10}),
    ),
    Case(
        "type change: text where a number belongs",
        _with_row(11, quantity="bir müň"),
        "quarantined",
        "type_contract:quantity:bir müň",
        frozenset({12}),
    ),
    Case(
        "duplicate row",
        lambda: _csv(HEADER, [*_rows(), _rows()[0]]),
        "quarantined",
        "expect_compound_columns_to_be_unique",
        frozenset({1, 21}),
    ),
    Case(
        "one key with conflicting values",
        lambda: _csv(HEADER, [*_rows(), [*_rows()[0][:3], "99999.0", _rows()[0][4]]]),
        "quarantined",
        "expect_compound_columns_to_be_unique",
        frozenset({1, 21}),
    ),
    Case(
        "too many bad rows",
        lambda: _csv(HEADER, [[*row[:3], "-1", row[4]] for row in _rows()]),
        "held",
        "100% of rows failed, at most 10% allowed",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input(
    case: Case, maglumat_home: MaglumatPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SYSTEM.connection_env, raising=False)
    inbox = maglumat_home.systems / SYSTEM.name / "inbox"
    inbox.mkdir(parents=True)
    data = case.content()
    (inbox / "fek_2023-09-05.csv").write_bytes(data)
    age_file(inbox / "fek_2023-09-05.csv", 3600)  # settled, not half-written

    landed = extract_to_landing(maglumat_home, SYSTEM, TABLE)
    gated = gate_and_load(maglumat_home, SYSTEM, TABLE)

    if case.outcome == "rejected":
        assert landed.manifests == []
        (reason,) = file_inbox.rejected_files(SYSTEM, maglumat_home).values()
        assert "fek_2023-09-05.csv" in reason
        assert case.message in reason
        kept = maglumat_home.systems / SYSTEM.name / "rejected" / "fek_2023-09-05.csv"
        assert kept.read_bytes() == data
        return
    (load,) = gated.loads
    assert load.extracted_rows == load.loaded_rows + load.quarantined_rows + load.held_rows
    assert (maglumat_home.systems / SYSTEM.name / "processed" / "fek_2023-09-05.csv").exists()
    connection = duckdb.connect(str(maglumat_home.warehouse), read_only=True)
    try:
        (summary,) = connection.execute(
            "select gate_summary from audit.batches where batch_id = ?", [load.batch_id]
        ).fetchone()
        failures = connection.execute(
            "select row_number, rule || ':' || field || ':' || coalesce(value, '')"
            " from audit.quarantine where batch_id = ?",
            [load.batch_id],
        ).fetchall()
    finally:
        connection.close()
    if case.outcome == "loaded":
        assert (load.status, load.loaded_rows) == ("loaded", 20)
    elif case.outcome == "held":
        assert load.status == "held"
        assert load.held_rows == load.extracted_rows
        assert gated.open_holds == [load.batch_id]
        assert case.message in summary
    else:
        assert load.status == "loaded_with_quarantine"
        assert {row for row, _ in failures} == set(case.quarantined)
        assert any(case.message in failure for _, failure in failures)

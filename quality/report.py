"""Write each batch's validation result as JSON and as an HTML page a data steward can read."""

from __future__ import annotations

import html
from pathlib import Path

from quality.gate import GateVerdict

_STYLE = """
body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f0f0f0}
.fail{color:#b00020;font-weight:bold}.pass{color:#1b5e20}
"""


def _rows(cells: list[list[object]]) -> str:
    return "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in cells
    )


def render_html(verdict: GateVerdict, landed_file: str) -> str:
    status_class = "fail" if verdict.is_held else "pass"
    expectations = _rows(
        [
            [
                r["rule"],
                r["field"],
                "passed" if r["success"] else "FAILED",
                r["unexpected_count"],
                ", ".join(r["unexpected_sample"]),
            ]
            for r in verdict.results
        ]
    )
    batch_failures = _rows([[f.rule, f.detail] for f in verdict.batch_failures])
    row_failures = _rows(
        [[f.row_number, f.rule, f.field, f.value] for f in verdict.row_failures[:500]]
    )
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>Quality gate: {html.escape(verdict.batch_id)}</title><style>{_STYLE}</style></head><body>
<h1>Quality gate: {html.escape(verdict.suite)}</h1>
<p>Batch <code>{html.escape(verdict.batch_id)}</code> from <code>{html.escape(landed_file)}</code>,
{verdict.row_count} rows, checked {html.escape(verdict.checked_at)}.</p>
<p class="{status_class}">Status: {html.escape(verdict.status)}:
{len(verdict.quarantined_rows)} rows quarantined.</p>
<h2>Batch-level failures (the batch is held)</h2>
<table><tr><th>rule</th><th>detail</th></tr>
{batch_failures or "<tr><td colspan=2>none</td></tr>"}</table>
<h2>Expectations</h2>
<table><tr><th>rule</th><th>field</th><th>result</th><th>unexpected</th><th>sample</th></tr>
{expectations}</table>
<h2>Quarantined rows (row of the landed file, rule, field, value)</h2>
<table><tr><th>row</th><th>rule</th><th>field</th><th>value</th></tr>
{row_failures or "<tr><td colspan=4>none</td></tr>"}</table>
</body></html>"""


def write_gate_report(
    results_root: Path, system: str, table: str, verdict: GateVerdict, landed_file: str
) -> Path:
    """Write ``<results_root>/<system>/<table>/<batch_id>.{json,html}``; returns the HTML path."""
    folder = results_root / system / table
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{verdict.batch_id}.json").write_text(verdict.to_json(), encoding="utf-8")
    page = folder / f"{verdict.batch_id}.html"
    page.write_text(render_html(verdict, landed_file), encoding="utf-8")
    return page

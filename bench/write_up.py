"""The benchmark's results as people read them: one markdown section per scale factor (stages,
the incremental day, queries, the baseline and the floor, the targets), written beside the JSON
figures into ``bench/results/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import systems

RESULTS_DIR = systems.BENCH_DIR / "results"
# The pipeline's stages, in the order the tables print them (bench.run times them).
STAGES = ("extract", "land", "gate", "load", "dbt", "publish", "reports")


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _megabytes(value: int | None) -> str:
    return "" if value is None else f"{value / 2**20:,.0f}"


def _rate(rows: int | None, seconds: float) -> str:
    if not rows or seconds <= 0:
        return ""
    return f"{rows / seconds:,.0f}"


def _ratio(maglumat: float, theirs: float | None) -> str:
    return f"{maglumat / theirs:.2f}x" if theirs else ""


def _maglumat_load(full: dict[str, Any]) -> float:
    return sum(full["stages"][stage]["seconds"] for stage in ("extract", "land", "gate", "load"))


def _floor(result: dict[str, Any]) -> list[str]:
    """The floor beside the baseline: Maglumat's full build, incremental day and load divided
    by the time each of the two takes. Neither has an incremental mode: a day costs them a full
    computation, so the incremental day is divided by their full time."""
    floor = result.get("floor") or {}
    if "error" in floor:
        return ["", f"Floor: not run ({floor['error']})."]
    if not floor:
        return []
    baseline = result.get("baseline") or {}
    full, incremental = result["full"], result["incremental"]
    measured = [("full build", full["wall_seconds"], "total_seconds")]
    if incremental:
        measured.append(("incremental day", incremental["wall_seconds"], "total_seconds"))
    measured.append(("extract + land + gate + load", _maglumat_load(full), "load_seconds"))
    lines = [
        "",
        f"Floor (DuckDB SQL straight from the landed Parquet, {floor['threads']} threads; no"
        f" gate, no audit, no snapshot): load {floor['load_seconds']:.2f} s"
        f" ({floor['rows_loaded']:,} rows of {floor['batches_read']} batches), compute"
        f" {floor['compute_seconds']:.2f} s, {floor['total_seconds']:.2f} s end to end. Its"
        f" values equal Maglumat's: {'yes' if floor['equal'] else 'NO'} ({floor['matched']} of"
        f" {floor['values']} values; {len(floor['mismatches'])} differ,"
        f" {floor['missing_in_maglumat']} missing in Maglumat,"
        f" {floor['missing_in_baseline']} missing in the floor).",
        "",
        "| Maglumat | s | floor s | Maglumat / floor | baseline s | Maglumat / baseline |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, seconds, key in measured:
        theirs = floor[key], baseline.get(key)
        lines.append(
            f"| {label} | {seconds:.2f} | {_seconds(theirs[0])} | {_ratio(seconds, theirs[0])}"
            f" | {_seconds(theirs[1])} | {_ratio(seconds, theirs[1])} |"
        )
    return lines


def markdown(result: dict[str, Any]) -> str:
    sf = systems.sf_label(result["scale_factor"])
    full, incremental = result["full"], result["incremental"]
    rows = result["source_rows"]
    lines = [
        f"## SF {sf} ({result['date'][:10]}, seed {result['seed']})",
        "",
        f"Source rows: {rows['processing_output.daily_output']:,} daily output rows,"
        f" {rows['edocument_workflow.events']:,} e-document events,"
        f" {rows.get('fuel_energy_production.daily_production', 0):,} fuel-energy daily rows"
        f" (and the other sectors at demo size). Machine: {result['machine']['cores']} cores,"
        f" {result['machine']['memory_gb']} GB, {result['machine']['cpu']};"
        f" load average at the end {result['machine']['load_average'][0]:.1f}.",
        "",
        "| stage | full s | full rows/s | full peak MB | incr. s | incr. rows/s | incr. peak MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    empty = {"seconds": None, "rows": None, "peak_rss_bytes": None}
    for stage in (*STAGES, "other"):
        f = full["stages"][stage]
        i = incremental["stages"][stage] if incremental else empty
        lines.append(
            f"| {stage} | {_seconds(f['seconds'])} | {_rate(f['rows'], f['seconds'])}"
            f" | {_megabytes(f['peak_rss_bytes'])} | {_seconds(i['seconds'])}"
            f" | {_rate(i['rows'], i['seconds'] or 0)} | {_megabytes(i['peak_rss_bytes'])} |"
        )
    i = incremental or {"wall_seconds": None, "peak_rss_bytes": None, "orchestration_seconds": None}
    lines.append(
        f"| Dagster between steps | {_seconds(full['orchestration_seconds'])} | | |"
        f" {_seconds(i['orchestration_seconds'])} | | |"
    )
    lines.append(
        f"| **run** | **{full['wall_seconds']:.2f}** | | **{_megabytes(full['peak_rss_bytes'])}**"
        f" | **{_seconds(i['wall_seconds'])}** | | **{_megabytes(i['peak_rss_bytes'])}** |"
    )
    overhead = result["fixed_overhead"]
    lines += [
        "",
        "The reports (daily campaign, weekly per ministry, monthly government; three languages;"
        " PDF, HTML and XLSX) are rendered after the run from its snapshot, as their schedules"
        " do: the reports row, outside the run's total.",
        "",
        "Fixed overhead: "
        + (
            ", ".join(f"{name.replace('_', ' ')} {value:.2f} s" for name, value in overhead.items())
            or "not measured"
        )
        + (
            f" (the first dbt parse of a deployment, once: {first_parse:.2f} s)"
            if (first_parse := result.get("deployment_dbt_parse_seconds"))
            else ""
        ),
    ]
    queries = result.get("queries") or {}
    if queries:
        lines.append(
            f"Indicator queries on the snapshot ({queries['queries']} queries x"
            f" {queries['repeats']}): p50 {queries['p50_ms']:.1f} ms, p95"
            f" {queries['p95_ms']:.1f} ms, max {queries['max_ms']:.1f} ms."
        )
    baseline = result.get("baseline") or {}
    if "error" in baseline:
        lines.append(f"Baseline: not run ({baseline['error']}).")
    elif baseline:
        dbt_seconds = max(full["stages"]["dbt"]["seconds"], 1e-9)
        maglumat_load = _maglumat_load(full)
        lines += [
            "",
            "| pandas + PostgreSQL baseline | s | Maglumat | s | ratio |",
            "| --- | ---: | --- | ---: | ---: |",
            f"| load (pandas read + COPY), {baseline['rows_loaded']:,} rows"
            f" | {baseline['load_seconds']:.2f} | extract + land + gate + load"
            f" | {maglumat_load:.2f} | {baseline['load_seconds'] / maglumat_load:.2f}x |",
            f"| compute {len(baseline['indicators'])} indicators"
            f" | {baseline['compute_seconds']:.2f} | dbt (every model, indicator and test)"
            f" | {full['stages']['dbt']['seconds']:.2f}"
            f" | {baseline['compute_seconds'] / dbt_seconds:.2f}x |",
            f"| end to end | {baseline['total_seconds']:.2f} | full build |"
            f" {full['wall_seconds']:.2f} |"
            f" {baseline['total_seconds'] / full['wall_seconds']:.2f}x |",
            "",
            f"Baseline values equal Maglumat's: {'yes' if baseline['equal'] else 'NO'}"
            f" ({baseline['matched']} of {baseline['values']} values;"
            f" {len(baseline['mismatches'])} differ, {baseline['missing_in_maglumat']} missing"
            f" in Maglumat, {baseline['missing_in_baseline']} missing in the baseline).",
        ]
    lines += _floor(result)
    lines += ["", "| target | figure | met |", "| --- | ---: | --- |"]
    for name, target in result["targets"].items():
        value = target["value"]
        figure = "" if value is None else f"{value:.2f}"
        met = {True: "met", False: "missed", None: "n/a"}[target["met"]]
        lines.append(f"| {name.replace('_', ' ')} {target['target']} | {figure} | {met} |")
    for name, measured in (("full", full), ("incremental", incremental)):
        if measured and not measured["success"]:
            lines.append(f"\nThe {name} run failed: steps {measured['failed_steps']}.")
    return "\n".join(lines) + "\n"


def growth_markdown(growth: dict[str, Any]) -> str:
    """The incremental day's growth from SF 1 to SF 10: one day of files either way."""
    met = "met" if growth["met"] else "missed"
    return (
        "## The incremental day, SF 10 against SF 1\n\n"
        "| target | SF 1 s | SF 10 s | figure | met |\n| --- | ---: | ---: | ---: | --- |\n"
        f"| incremental day SF 10 / SF 1 {growth['target']} | {growth['sf1_seconds']:.2f}"
        f" | {growth['sf10_seconds']:.2f} | {growth['ratio']:.2f}x | {met} |\n"
    )


def write_results(
    results: list[dict[str, Any]],
    directory: Path = RESULTS_DIR,
    growth: dict[str, Any] | None = None,
) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    sections = []
    for result in results:
        stem = f"{result['date'][:10]}-sf{systems.sf_label(result['scale_factor'])}"
        json_path = directory / f"{stem}.json"
        json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
        md_path = directory / f"{stem}.md"
        section = markdown(result)
        md_path.write_text(f"# Maglumat benchmark\n\n{section}")
        sections.append(section)
        written += [json_path, md_path]
    latest = directory / "latest.md"
    latest.write_text(
        "# Maglumat benchmark: latest results\n\n"
        "Written by `make bench` (see docs/benchmark.md for what is measured and how).\n\n"
        + "\n".join(sections)
        + (f"\n{growth_markdown(growth)}" if growth else "")
    )
    written.append(latest)
    return written

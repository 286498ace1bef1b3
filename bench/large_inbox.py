"""A very large inbox file lands and gates in bounded memory.

Writes a fuel and energy archive file of the new dispatch system's layout (UTF-8, `,`; every
row valid and unique, ten years of days for thousands of enterprises), drops it into the inbox
of a fresh ``MAGLUMAT_HOME`` and runs, each in a process of its own so that its peak memory
(``ru_maxrss``) is its own:

* ``sliced``: the file as Maglumat reads it (in slices of ``stream_slice_bytes``, gated and
  loaded ``GATE_SLICE_ROWS`` rows at a time), at the full size;
* ``whole``: the baseline, the file read whole and gated whole (slicing switched off), at a
  smaller size, beside ``sliced`` at that same size.

It prints time and peak memory of each run, their ratios, and whether the full-size run stayed
under the limit (exit status 1 if not)::

    python -m bench.large_inbox --gb 2 --baseline-gb 0.25 --limit-gb 4
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

SYSTEM = "fuel_energy_production"
TABLE = "daily_production"
HEADER = "Sene,Kärhananyň kody,Önümiň kody,Mukdary,Iberilen wagty\n"
BYTES_PER_ROW = 57  # of the rows written below, measured
PRODUCTS = ("GAZ", "NBT", "KND", "ELK")


def write_file(path: Path, size_bytes: int) -> int:
    """An archive file of about ``size_bytes``; returns its rows."""
    rows = size_bytes // BYTES_PER_ROW
    days = 3650
    enterprises = max(1, rows // (days * len(PRODUCTS)) + 1)
    letters = [chr(65 + n) for n in range(26)]
    codes = [
        f"{prefix}-{a}{b}{c}"
        for prefix in ("TGZ", "TNB", "ENR")
        for a in letters
        for b in letters
        for c in letters
    ][:enterprises]
    pairs = pl.DataFrame({"enterprise_code": codes}).join(
        pl.DataFrame({"product_code": list(PRODUCTS)}), how="cross"
    )
    first_day = dt.date(2014, 1, 1)
    written = 0
    with path.open("wb") as handle:
        handle.write(HEADER.encode("utf-8"))
        for day_number in range(days):
            if written >= rows:
                break
            day = first_day + dt.timedelta(days=day_number)
            take = min(pairs.height, rows - written)
            block = pairs.head(take).with_columns(
                pl.lit(day.isoformat()).alias("report_date"),
                (1000 + (pl.int_range(0, take) * 7919 + day_number * 104729) % 50000 / 10).alias(
                    "quantity"
                ),
                pl.lit(f"{day + dt.timedelta(days=1)} 08:20:00+05:00").alias("transmitted_at"),
            )
            block.select(
                "report_date", "enterprise_code", "product_code", "quantity", "transmitted_at"
            ).write_csv(handle, include_header=False)
            written += take
    return written


def run_child(home: Path, inbox: Path, mode: str) -> dict[str, float | int | str]:
    """Land and gate the inbox in a process of its own; its figures as JSON."""
    environment = {
        **os.environ,
        "MAGLUMAT_HOME": str(home),
        "MAGLUMAT_FUEL_ENERGY_PRODUCTION_INBOX": str(inbox),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "bench.large_inbox", "--child", mode],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def child(mode: str) -> None:
    import dataclasses

    from maglumat.catalogue import load_catalogue
    from maglumat.settings import MaglumatPaths
    from pipelines import ingest

    paths = MaglumatPaths.from_env()
    paths.ensure()
    system = next(s for s in load_catalogue() if s.name == SYSTEM)
    if mode == "whole":
        never = 1 << 62
        system = dataclasses.replace(
            system, options={**system.options, "stream_above_bytes": never}
        )
        ingest.GATE_SLICE_ROWS = never
    table = system.table(TABLE)
    started = time.perf_counter()
    extracted = ingest.extract_to_landing(paths, system, table)
    landed = time.perf_counter()
    gated = ingest.gate_and_load(paths, system, table)
    done = time.perf_counter()
    (load,) = gated.loads
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "mode": mode,
                "rows": extracted.manifests[0].row_count,
                "loaded": load.loaded_rows,
                "status": load.status,
                "land_s": round(landed - started, 1),
                "gate_s": round(done - landed, 1),
                "peak_bytes": peak,
            }
        )
    )


def measure(size_gb: float, mode: str, scratch: Path) -> dict[str, float | int | str]:
    folder = Path(tempfile.mkdtemp(prefix=f"{mode}-", dir=scratch))
    inbox = folder / "inbox"
    inbox.mkdir()
    path = inbox / "fek_arhiw_2014-2023.csv"
    rows = write_file(path, int(size_gb * (1 << 30)))
    long_ago = time.time() - 3600  # settled: the inbox waits for files younger than a minute
    os.utime(path, (long_ago, long_ago))
    file_bytes = path.stat().st_size
    figures = run_child(folder / "home", inbox, mode)
    figures["file_bytes"] = file_bytes
    figures["rows_written"] = rows
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gb", type=float, default=2.0, help="size of the full-size file")
    parser.add_argument("--baseline-gb", type=float, default=0.25, help="size of the baseline")
    parser.add_argument("--limit-gb", type=float, default=4.0, help="peak memory allowed")
    parser.add_argument("--scratch", type=Path, default=None, help="where files are written")
    parser.add_argument("--child", choices=["sliced", "whole"], help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child)
        return
    scratch = Path(tempfile.mkdtemp(prefix="maglumat-large-inbox-", dir=arguments.scratch))
    small, full_size = arguments.baseline_gb, arguments.gb
    runs = [
        (f"whole, {small:g} GB (baseline)", measure(small, "whole", scratch)),
        (f"sliced, {small:g} GB", measure(small, "sliced", scratch)),
        (f"sliced, {full_size:g} GB", measure(full_size, "sliced", scratch)),
    ]
    gib = 1 << 30
    print(f"{'run':<28} {'rows':>12} {'land s':>8} {'gate s':>8} {'peak GB':>8} {'GB/GB':>7}")
    for label, figures in runs:
        size = float(figures["file_bytes"]) / gib
        peak = float(figures["peak_bytes"]) / gib
        print(
            f"{label:<28} {figures['rows']:>12,} {figures['land_s']:>8} {figures['gate_s']:>8}"
            f" {peak:>8.2f} {peak / size:>7.2f}"
        )
    whole, same_size, full = (figures for _, figures in runs)

    def seconds(figures: dict[str, float | int | str]) -> float:
        return float(figures["land_s"]) + float(figures["gate_s"])

    memory_ratio = float(same_size["peak_bytes"]) / float(whole["peak_bytes"])
    time_ratio = seconds(same_size) / max(seconds(whole), 0.1)
    print(f"sliced / whole at {small:g} GB: peak memory {memory_ratio:.2f}, time {time_ratio:.2f}")
    for _, figures in runs:
        if figures["loaded"] != figures["rows"]:
            print(f"FAIL: {figures['mode']} loaded {figures['loaded']} of {figures['rows']} rows")
            sys.exit(1)
    within = float(full["peak_bytes"]) < arguments.limit_gb * gib
    print(
        f"{'PASS' if within else 'FAIL'}: a {arguments.gb:g} GB file landed and gated with a peak "
        f"of {float(full['peak_bytes']) / gib:.2f} GB (limit {arguments.limit_gb:g} GB)"
    )
    sys.exit(0 if within else 1)


if __name__ == "__main__":
    main()

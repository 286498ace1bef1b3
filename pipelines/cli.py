"""The ``maglumat`` command: simulate, run the pipeline, and read what it produced.

This module reads the arguments and dispatches; the commands live in ``pipelines/commands/``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from maglumat.languages import LANGUAGES
from pipelines import cli_arguments as arguments_of
from pipelines.cli_arguments import UsageError
from pipelines.commands.home import (
    existing_home_paths,
)
from pipelines.commands.reading import (
    search,
    sql,
)
from pipelines.commands.reports import (
    render_reports,
)
from pipelines.commands.running import (
    demo,
    prepare,
    run_pipeline,
    simulate,
)
from pipelines.commands.serving import (
    ServingRefusedError,
    publish_serving,
    serving_users,
)
from pipelines.commands.steward import (
    quarantine,
)
from pipelines.landing import LandingError

_EXAMPLES = {
    "demo": "maglumat demo\n  maglumat demo --simulated-time 2023-10-15T06:00Z --seed 7",
    "simulate": "maglumat simulate --simulated-time 2023-10-02T06:00Z",
    "prepare": "maglumat prepare",
    "run": "maglumat run\n  maglumat run --simulated --simulated-time 2023-10-02T06:00Z",
    "sql": (
        'maglumat sql "select * from indicators.dim_indicators limit 5"\n'
        '  maglumat sql "select * from marts.dim_regions" --all | less -S\n'
        '  maglumat sql "select * from indicators.ind_campaign_progress" --output progress.xlsx\n'
        '  maglumat sql "select * from marts.dim_regions" --output regions.csv --excel-csv\n'
        '  maglumat sql "select count(*) from marts.fct_source_quality" --as-of 2023-09-30'
    ),
    "search": "maglumat search bugday hasyl\n  maglumat search хлопок --language ru",
    "readmit": "maglumat readmit 20231002T063000123456Z-a1b2c3",
    "reject": (
        'maglumat reject 20231002T063000123456Z-a1b2c3 --reason "schema changed; IT fixes it"\n'
        '  maglumat reject 20231002T063000123456Z-a1b2c3 --reason "duplicate" --skip-rows'
    ),
    "quarantine": "maglumat quarantine\n  maglumat quarantine --system fuel_energy_production",
    "publish-serving": (
        "MAGLUMAT_SERVING_DSN=postgresql://maglumat@db.example/serving maglumat publish-serving"
    ),
    "serving": (
        "maglumat serving add-user aman_orazow --ministry energy   (asks for the password)\n"
        "  maglumat serving list-users\n"
        "  maglumat serving remove-user aman_orazow"
    ),
    "report": (
        "maglumat report daily_campaign --period 2023-09-30\n"
        "  maglumat report weekly_ministry --period 2023-09-25 --ministry energy --language en\n"
        "  maglumat report monthly_government --period 2023-09-01 --deliver"
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = arguments_of.Parser(
        prog="maglumat",
        description="Maglumat: government data warehouse and ETL pipeline.",
        epilog='Examples:\n  maglumat demo\n  maglumat sql "select 1"\n'
        "  maglumat quarantine\nEach command has its own --help with examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an unexpected error"
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="what to do (each has --help)"
    )

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=f"Example:\n  {_EXAMPLES[name]}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    demo_parser = command("demo", "simulate the sector systems and run everything once")
    simulate_parser = command("simulate", "bring the simulated sector systems to a time")
    command("prepare", "parse the dbt project (writes its manifest; run after an upgrade)")
    run_parser = command("run", "run the daily job once, end to end")
    run_parser.add_argument(
        "--simulated", action="store_true", help="serve the simulated APIs during the run"
    )
    run_parser.add_argument(
        "--full-rebuild",
        action="store_true",
        help="rebuild every dbt model in full, incremental ones included (default: only what"
        " the new batches touch)",
    )
    for sub in (demo_parser, simulate_parser, run_parser):
        # The simulated systems' time; --as-of means a snapshot's date in sql and search.
        sub.add_argument(
            "--simulated-time",
            dest="as_of",
            type=arguments_of.instant,
            metavar="TIME",
            help="the simulated systems' time, ISO 8601, UTC unless a zone is given"
            " (default 2023-10-01T06:00Z)",
        )
        # Its earlier name, kept so that scripts keep working; not shown in the help.
        sub.add_argument("--as-of", dest="as_of", type=arguments_of.instant, help=argparse.SUPPRESS)
        sub.add_argument("--seed", type=int, help="simulation seed (default: the demo's)")
    sql_parser = command("sql", "query the published snapshot (read-only)")
    sql_parser.add_argument("query", metavar="QUERY", help="one or more SQL statements")
    sql_parser.add_argument(
        "--output",
        "--csv",
        dest="output",
        metavar="FILE",
        help="write the result to FILE.xlsx (for spreadsheets: typed cells), FILE.csv (UTF-8,"
        " commas: for programs) or FILE.parquet",
    )
    sql_parser.add_argument(
        "--excel-csv",
        action="store_true",
        help="write FILE.csv for Excel in a Russian or Turkmen locale: a byte order mark, `;`"
        " and decimal commas",
    )
    shown = sql_parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--max-rows",
        type=arguments_of.positive,
        default=50,
        metavar="N",
        help="rows printed of each result (default 50)",
    )
    shown.add_argument(
        "--all", dest="max_rows", action="store_const", const=0, help="print every row"
    )
    search_parser = command(
        "search", "find indicators, tables and columns (Turkmen, Russian, English)"
    )
    search_parser.add_argument("words", nargs="+", metavar="WORD", help="words to find, all of")
    search_parser.add_argument("--language", choices=LANGUAGES, help="only names in this language")
    search_parser.add_argument(
        "--limit", type=arguments_of.positive, default=10, help="results of each kind (10)"
    )
    for sub in (sql_parser, search_parser):
        sub.add_argument(
            "--as-of",
            type=arguments_of.day_or_time,
            metavar="DATE",
            help="read the snapshot in force at the end of this date (Aşgabat) or at this time",
        )
    readmit_parser = command(
        "readmit", "gate and load a landed batch again (after its suite or data was fixed)"
    )
    readmit_parser.add_argument(
        "batch_id", metavar="BATCH_ID", help="as `maglumat quarantine` lists it"
    )
    reject_parser = command("reject", "keep a held batch out for good, releasing its table")
    reject_parser.add_argument(
        "batch_id", metavar="BATCH_ID", help="a held batch, as `maglumat quarantine` lists it"
    )
    reject_parser.add_argument("--reason", required=True, help="why, recorded with the batch")
    reject_parser.add_argument(
        "--skip-rows",
        action="store_true",
        help="skip the batch's rows for good instead of extracting them again (recorded)",
    )
    quarantine_parser = command(
        "quarantine", "list held batches, quarantined rows and failed blocking dbt tests"
    )
    quarantine_parser.add_argument(
        "--system", metavar="NAME", help="only this sector system (as in sources.yml)"
    )
    command(
        "publish-serving",
        "publish the current snapshot to the BI PostgreSQL database (MAGLUMAT_SERVING_DSN)",
    )
    serving_parser = command(
        "serving", "the people who read the BI PostgreSQL database (MAGLUMAT_SERVING_DSN)"
    )
    serving_commands = serving_parser.add_subparsers(
        dest="serving_command", required=True, metavar="ACTION", help="what to do"
    )
    add_user_parser = serving_commands.add_parser(
        "add-user",
        help="give a person a login in a ministry's group (the password is asked for, or read"
        " from the first line of standard input; never given on the command line)",
    )
    add_user_parser.add_argument(
        "name", metavar="NAME", help="the login, e.g. aman_orazow (lowercase, digits, _)"
    )
    add_user_parser.add_argument(
        "--ministry",
        required=True,
        metavar="ID",
        help="whose figures the person reads (a ministry id, or government for all)",
    )
    remove_user_parser = serving_commands.add_parser(
        "remove-user", help="drop a person's login, ending their sessions"
    )
    remove_user_parser.add_argument("name", metavar="NAME", help="as list-users shows it")
    serving_commands.add_parser("list-users", help="every person's login, ministry and sessions")
    report_parser = command("report", "render a report for a past period into the archive")
    report_parser.add_argument(
        "kind",
        choices=("daily_campaign", "weekly_ministry", "monthly_government"),
        help="which report",
    )
    report_parser.add_argument(
        "--period",
        required=True,
        type=arguments_of.day,
        metavar="YYYY-MM-DD",
        help="a day of the period (its week, its month)",
    )
    report_parser.add_argument(
        "--language",
        action="append",
        choices=LANGUAGES,
        help="only this language (repeatable; default all three)",
    )
    report_parser.add_argument(
        "--ministry",
        action="append",
        metavar="ID",
        help="weekly report: only this ministry (repeatable; any case)",
    )
    report_parser.add_argument(
        "--deliver", action="store_true", help="also e-mail the recipients (needs SMTP settings)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from warehouse.duck import WarehouseBusyError
    from warehouse.snapshot import SnapshotNotFoundError

    arguments = _parser().parse_args(argv)
    name = " ".join(["maglumat", arguments.command, getattr(arguments, "serving_command", "")])
    name = name.strip()
    try:
        return _dispatch(arguments)
    except (
        UsageError,
        FileNotFoundError,
        ConnectionError,
        TimeoutError,
        ValueError,
        LandingError,
        SnapshotNotFoundError,
        WarehouseBusyError,
    ) as error:
        if arguments.debug:
            raise
        print(f"{name}: {error}", file=sys.stderr)
        return 2
    except ServingRefusedError:
        return 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if arguments.debug:
            raise
        first_line = (str(error).strip().splitlines() or [""])[0]
        print(
            f"{name}: unexpected error ({type(error).__name__}: {first_line}); run it again"
            " with `maglumat --debug` for the traceback",
            file=sys.stderr,
        )
        return 1


def _dispatch(arguments: argparse.Namespace) -> int:
    if arguments.command == "demo":
        return demo(arguments.as_of, arguments.seed)
    if arguments.command == "simulate":
        simulate(arguments.as_of, arguments.seed)
        return 0
    if arguments.command == "prepare":
        prepare()
        return 0
    if arguments.command == "run":
        return run_pipeline(
            arguments.simulated,
            arguments.as_of,
            arguments.seed,
            full_rebuild=arguments.full_rebuild,
        )
    if arguments.command == "sql":
        return sql(
            arguments.query,
            arguments.output,
            arguments.as_of,
            arguments.max_rows,
            arguments.excel_csv,
        )
    if arguments.command == "search":
        return search(arguments.words, arguments.language, arguments.limit, arguments.as_of)
    if arguments.command == "report":
        return render_reports(
            arguments.kind,
            arguments.period,
            arguments.language,
            arguments.ministry,
            arguments.deliver,
        )
    if arguments.command == "readmit":
        from pipelines.ingest import readmit

        load = readmit(existing_home_paths(), arguments.batch_id)
        print(
            f"batch {load.batch_id}: {load.status}; {load.extracted_rows} extracted ="
            f" {load.loaded_rows} loaded + {load.quarantined_rows} quarantined"
            f" + {load.held_rows} held"
        )
        return 0 if load.status != "held" else 1
    if arguments.command == "reject":
        from pipelines.ingest import reject

        rejection = reject(
            existing_home_paths(),
            arguments.batch_id,
            arguments.reason,
            extract_again=not arguments.skip_rows,
        )
        if rejection.extract_again:
            print(
                f"batch {arguments.batch_id} rejected; it stays in the landing zone, and its"
                " rows are extracted again on the next run (held again until the source is"
                " fixed; --skip-rows skips them)"
            )
        else:
            print(
                f"batch {arguments.batch_id} rejected; it stays in the landing zone, and its"
                " rows are skipped for good (recorded in the ledger and the landing zone)"
            )
        return 0
    if arguments.command == "publish-serving":
        return publish_serving()
    if arguments.command == "serving":
        return serving_users(
            arguments.serving_command,
            getattr(arguments, "name", None),
            getattr(arguments, "ministry", None),
        )
    return quarantine(arguments.system)


if __name__ == "__main__":
    sys.exit(main())

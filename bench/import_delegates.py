"""Benchmark: import 5,000 delegates from a spreadsheet (CSV and XLSX).

    .venv/bin/python bench/import_delegates.py [--rows 5000] [--repeat 5]
    CONGRESS_BENCH_POSTGRES=postgresql://postgres@127.0.0.1:54329/postgres \
        .venv/bin/python bench/import_delegates.py

Prints medians over the repetitions, each on a fresh congress in a fresh database, with a
baseline measured in the same run: the same rows written by sqlite3.executemany (the
fastest the embedded database can take them) and the parse alone.
Goal (issue 2): a 5,000-row file imports in under 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import random
import secrets
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402

harness.use_database()
SERVER = harness.POSTGRES

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Đức", "Hữu", "Thu", "Ngọc", "Minh", "Thanh", "Quang", "Xuân"]
GIVEN = [
    "Hạnh",
    "Đức",
    "Hằng",
    "Dũng",
    "Lan",
    "Hùng",
    "Phương",
    "Tuấn",
    "Nga",
    "Sơn",
    "Thủy",
    "Long",
]
DELEGATIONS = [f"Công đoàn cơ sở số {n}" for n in range(1, 41)]


def rows(count: int, position: str) -> list[list[object]]:
    rng = random.Random(5000)
    out = []
    for n in range(1, count + 1):
        gender = rng.choice(["Nam", "Nữ"])
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        out.append(
            [
                n,
                name,
                gender,
                rng.randint(1960, 1998),
                rng.choice(DELEGATIONS),
                f"Đơn vị {n % 300}",
                position,
                "Chính thức",
                f"{n:05d}",
            ]
        )
    return out


def as_csv(table: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(harness.SHEET_HEADER)
    writer.writerows(table)
    return buffer.getvalue().encode("utf-8-sig")


def as_xlsx(table: list[list[object]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(harness.SHEET_HEADER)
    for row in table:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def baseline_executemany(table: list[list[object]]) -> float:
    """The same rows into a plain SQLite table with one executemany, in WAL mode."""
    path = harness.var_dir() / f"baseline-{secrets.token_hex(3)}.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE d (name TEXT, gender TEXT, year INT, delegation TEXT, unit TEXT,"
            " position TEXT, kind TEXT, card TEXT UNIQUE)"
        )
        started = time.perf_counter()
        db.executemany("INSERT INTO d VALUES (?,?,?,?,?,?,?,?)", [r[1:] for r in table])
        db.commit()
        return time.perf_counter() - started


async def one_round(content: bytes, changed: bytes) -> dict[str, float]:
    from congress.delegate_sheet import read_delegate_sheet
    from congress.delegates import services
    from congress.eventlog import SYSTEM
    from congress.schemas import CongressIn
    from congress.services import create_congress

    congress_id = await create_congress(CongressIn(name=f"Bench {secrets.token_hex(3)}"))
    timings = {}
    started = time.perf_counter()
    read_delegate_sheet(content)
    timings["parse only"] = time.perf_counter() - started

    started = time.perf_counter()
    token = await services.stage_import(congress_id, "ds", content, SYSTEM)
    preview = await services.preview_import(congress_id, token, create_delegations=True)
    timings["upload + preview"] = time.perf_counter() - started
    assert preview.counts["create"] == len(preview.rows)

    started = time.perf_counter()
    await services.apply_import(congress_id, token, True, SYSTEM)
    timings["import (all new)"] = time.perf_counter() - started

    started = time.perf_counter()
    token = await services.stage_import(congress_id, "ds", content, SYSTEM)
    await services.apply_import(congress_id, token, True, SYSTEM)
    timings["re-import, unchanged"] = time.perf_counter() - started

    started = time.perf_counter()
    token = await services.stage_import(congress_id, "ds", changed, SYSTEM)
    event = await services.apply_import(congress_id, token, True, SYSTEM)
    timings["re-import, all changed"] = time.perf_counter() - started
    assert event.updated == len(preview.rows)
    return timings


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    async with harness.fresh_database():
        from congress import database

        async with database.database_pool(4):
            await database.migrate()
            table = rows(args.rows, "Chủ tịch Công đoàn cơ sở")
            changed_table = rows(args.rows, "Phó Chủ tịch Công đoàn cơ sở")
            results: dict[str, dict[str, list[float]]] = {}
            for kind, encode in (("csv", as_csv), ("xlsx", as_xlsx)):
                content, changed = encode(table), encode(changed_table)
                per_step: dict[str, list[float]] = {}
                for _ in range(args.repeat):
                    for step, seconds in (await one_round(content, changed)).items():
                        per_step.setdefault(step, []).append(seconds)
                results[kind] = per_step
            baseline = [baseline_executemany(table) for _ in range(args.repeat)]

        engine = "postgresql" if SERVER else "sqlite"
        print(f"\nDelegate import, {args.rows} rows, {engine}, median of {args.repeat} (seconds)\n")
        print("| step | csv | xlsx |\n|---|---:|---:|")
        for step in results["csv"]:
            csv_s = statistics.median(results["csv"][step])
            xlsx_s = statistics.median(results["xlsx"][step])
            print(f"| {step} | {csv_s:.3f} | {xlsx_s:.3f} |")
        total = {
            k: statistics.median(
                [
                    sum(
                        v[i]
                        for s, v in results[k].items()
                        if s in ("upload + preview", "import (all new)")
                    )
                    for i in range(args.repeat)
                ]
            )
            for k in results
        }
        print(
            f"| **upload + preview + import** | **{total['csv']:.3f}** | **{total['xlsx']:.3f}** |"
        )
        print(
            "| baseline: sqlite3 executemany of the same rows"
            f" | {statistics.median(baseline):.3f} | |"
        )
        print(
            f"\ngoal: upload + preview + import < 5 s -> "
            f"{'met' if max(total.values()) < 5 else 'NOT met'}"
        )


if __name__ == "__main__":
    asyncio.run(main())

"""Benchmark: full-text search of an archive of 5,000 documents, per audience.

    .venv/bin/python bench/search_documents.py [--documents 5000] [--queries 200]
    CONGRESS_BENCH_POSTGRES=postgresql://postgres@127.0.0.1:54330/postgres \
        .venv/bin/python bench/search_documents.py

One congress, a fresh database, documents with Vietnamese texts of 1-3 KB made at random
(seeded) from congress and union words; a quarter of them have a second version. Every query
(1-3 words, folded or with diacritics, common, rare, prefixes, absent) runs once for each
audience through ``documents.search.search`` (ranked, first page of 20, with snippets), after
one unmeasured pass. The baseline, in the same run: the same words as ``LIKE '%word%'`` over
a column of the folded texts, same audience filter, first 20 by document id, no ranking and
no snippets. Goal (issue 4): median and p99 at most 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import random
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402

harness.use_database()
SERVER = harness.POSTGRES

# Words of every text, most common first: the draw favours the head of the list.
COMMON = [
    "công đoàn",
    "người lao động",
    "đoàn viên",
    "đại hội",
    "nhiệm kỳ",
    "Ban Chấp hành",
    "báo cáo",
    "chính trị",
    "nghị quyết",
    "thực hiện",
    "phong trào",
    "thi đua",
    "doanh nghiệp",
    "quyền lợi",
    "lợi ích hợp pháp",
    "chính đáng",
    "đại biểu",
    "tổ chức",
    "công đoàn cơ sở",
    "việc làm",
    "thu nhập",
    "đời sống",
    "chăm lo",
    "bảo vệ",
    "đại diện",
    "thương lượng tập thể",
    "thỏa ước lao động tập thể",
    "an toàn vệ sinh lao động",
    "tiền lương",
    "bảo hiểm xã hội",
    "nữ công",
    "kiểm tra",
    "giám sát",
    "tài chính công đoàn",
    "kinh phí",
    "đoàn phí",
    "phát triển đoàn viên",
    "xây dựng",
    "vững mạnh",
    "đổi mới",
    "nội dung",
    "phương thức hoạt động",
    "Đảng",
    "Nhà nước",
    "chuyên môn",
    "người sử dụng lao động",
    "khu công nghiệp",
    "nhà ở xã hội",
    "Tết Sum vầy",
    "Mái ấm Công đoàn",
    "khen thưởng",
    "kỷ luật",
    "tranh chấp lao động",
    "đình công",
    "đối thoại",
    "hội nghị người lao động",
    "quy chế dân chủ",
    "cán bộ công đoàn",
    "đào tạo",
    "bồi dưỡng",
    "chuyển đổi số",
    "tuyên truyền",
    "giáo dục",
    "pháp luật",
    "Bộ luật Lao động",
    "Luật Công đoàn",
    "Điều lệ Công đoàn Việt Nam",
    "Tổng Liên đoàn Lao động Việt Nam",
    "Liên đoàn Lao động tỉnh",
    "công đoàn ngành",
    "phúc lợi",
    "sáng kiến",
    "năng suất",
    "chất lượng",
    "hiệu quả",
    "khó khăn",
    "hạn chế",
    "nguyên nhân",
    "bài học kinh nghiệm",
    "phương hướng",
    "mục tiêu",
    "chỉ tiêu",
    "giải pháp",
    "nhiệm vụ trọng tâm",
]
# Words in a few documents each: places, programmes, unusual subjects.
RARE = [
    "Điện Biên",
    "Lai Châu",
    "Hà Giang",
    "Cà Mau",
    "Quảng Trị",
    "Đắk Lắk",
    "Kon Tum",
    "Bạc Liêu",
    "Hà Tĩnh",
    "Nghệ An",
    "Thừa Thiên Huế",
    "Bình Dương",
    "Đồng Nai",
    "Vĩnh Phúc",
    "Bắc Ninh",
    "Hải Phòng",
    "xuất khẩu lao động",
    "bệnh nghề nghiệp",
    "tai nạn lao động",
    "lao động nữ mang thai",
    "nhà trẻ",
    "mẫu giáo",
    "ký túc xá",
    "xe đưa đón",
    "bữa ăn ca",
    "sữa giữa ca",
    "nước sạch",
    "điều kiện lao động",
    "ngộ độc thực phẩm",
    "hỏa hoạn",
    "bão lũ",
    "hạn mặn",
    "dịch bệnh",
    "vắc-xin",
    "trí tuệ nhân tạo",
    "nền tảng số",
    "chữ ký số",
    "dệt may",
    "da giày",
    "điện tử",
    "khai khoáng",
    "thủy sản",
    "cao su",
    "cà phê",
    "hồ tiêu",
    "đường sắt",
    "hàng không",
    "cảng biển",
    "ngân hàng",
    "bưu điện",
    "viễn thông",
    "y tế",
    "giáo viên mầm non",
    "công chức",
    "viên chức",
    "lực lượng vũ trang",
    "người khuyết tật",
    "trẻ em mồ côi",
    "học bổng",
    "khuyến học",
]
SENTENCES = [
    "Trong nhiệm kỳ qua, {a} đã tập trung {b} và đạt nhiều kết quả quan trọng.",
    "Đại hội thống nhất {a}, gắn với {b}, nâng cao {c}.",
    "Ban Chấp hành đã chỉ đạo {a} theo tinh thần {b}.",
    "Tuy nhiên, {a} vẫn còn {b}, chưa đáp ứng yêu cầu về {c}.",
    "Đề nghị các cấp công đoàn tiếp tục {a}, chú trọng {b}.",
    "Kết quả {a} được đánh giá cao, góp phần {b} cho {c}.",
    "Năm {year}, toàn tỉnh có {n} {a} được {b}.",
    "Phương hướng nhiệm kỳ tới: {a}, {b} và {c}.",
    "Công đoàn phối hợp với chính quyền tổ chức {a} tại {rare}.",
    "Việc {a} ở {rare} còn nhiều {b}.",
]
DOC_TYPES = [
    "Báo cáo",
    "Dự thảo",
    "Nghị quyết",
    "Tờ trình",
    "Kế hoạch",
    "Biên bản",
    "Chương trình",
    "Quy chế",
    "Thông báo",
    "Danh sách",
]
CATEGORIES = ["report", "resolution", "minutes", "plan", "list", "other"]
ACCESS = ["public"] * 4 + ["delegates"] * 3 + ["organizers"] * 2 + ["confidential"]
AUDIENCES = {
    "organizer (with confidential)": ("organizer", True),
    "organizer": ("organizer", False),
    "delegate": ("delegate", False),
    "public": ("public", False),
}
PAGE = 20


def common_phrase(rng: random.Random) -> str:
    # A Zipf-like draw: the first words of COMMON are in nearly every text.
    return COMMON[min(int(rng.paretovariate(1.0)) - 1, len(COMMON) - 1) % len(COMMON)]


def sentence(rng: random.Random) -> str:
    return rng.choice(SENTENCES).format(
        a=common_phrase(rng),
        b=rng.choice(COMMON),
        c=common_phrase(rng),
        rare=rng.choice(RARE) if rng.random() < 0.3 else rng.choice(COMMON),
        year=rng.randint(2018, 2028),
        n=rng.randint(2, 900),
    )


def body(rng: random.Random) -> str:
    size = rng.randint(1000, 3000)
    sentences: list[str] = []
    while sum(len(s.encode()) + 1 for s in sentences) < size:
        sentences.append(sentence(rng))
        if rng.random() < 0.1:
            sentences.append("\n\n")
    return " ".join(sentences).strip()


def title(rng: random.Random, n: int) -> str:
    subject = rng.choice(COMMON if rng.random() < 0.8 else RARE)
    return f"{rng.choice(DOC_TYPES)} {subject} số {n}/{rng.choice(['BC', 'NQ', 'KH', 'TTr'])}-CĐ"


def queries(rng: random.Random, count: int) -> list[str]:
    from congress.text import fold

    made: dict[str, None] = {}
    kinds = ["common", "rare", "prefix", "mixed", "absent"]
    while len(made) < count:
        kind = rng.choice(kinds)
        if kind == "common":
            words = rng.choice(COMMON[:30]).split()[:3]
        elif kind == "rare":
            words = rng.choice(RARE).split()[:3]
        elif kind == "prefix":
            words = rng.choice(COMMON + RARE).split()[:3]
            words[-1] = words[-1][: max(1, len(words[-1]) - rng.randint(1, 2))]
        elif kind == "mixed":
            words = [
                rng.choice(rng.choice(COMMON + RARE).split()) for _ in range(rng.randint(2, 3))
            ]
        else:
            words = [rng.choice(["xyzzy", "kangaroo", "blockchain", "olympic"])]
            words += rng.choice(COMMON).split()[: rng.randint(0, 2)]
        query = " ".join(words)
        made[fold(query) if rng.random() < 0.5 else query] = None
    return list(made)


async def fill_archive(congress_id: int, count: int, rng: random.Random) -> list[int]:
    """Documents and their versions; returns the version ids."""
    from documents.tables import Document, DocumentVersion

    now = datetime.datetime.now(datetime.UTC)
    version_ids: list[int] = []
    for start in range(0, count, 500):
        specs = []
        for n in range(start, min(start + 500, count)):
            versions = 2 if rng.random() < 0.25 else 1
            access = rng.choice(ACCESS)
            released = 1 if access in ("public", "delegates") and rng.random() < 0.8 else None
            specs.append((title(rng, n + 1), versions, access, released))
        documents = await Document.insert(
            *[
                Document(
                    congress=congress_id,
                    title=t,
                    category=rng.choice(CATEGORIES),
                    access=access,
                    latest_version=versions,
                    released_version=released,
                    created_at=now,
                    updated_at=now,
                )
                for t, versions, access, released in specs
            ]
        ).returning(Document.id)
        rows = []
        for document, (_, versions, _, _) in zip(documents, specs, strict=True):
            for number in range(1, versions + 1):
                text = body(rng)
                rows.append(
                    DocumentVersion(
                        congress=congress_id,
                        document=document["id"],
                        number=number,
                        sha256=secrets.token_hex(32),
                        size=len(text.encode()),
                        media_type="application/pdf",
                        text=text,
                        uploaded_at=now,
                    )
                )
        inserted = await DocumentVersion.insert(*rows).returning(DocumentVersion.id)
        version_ids.extend(row["id"] for row in inserted)
    return version_ids


async def index_all() -> tuple[int, float]:
    from congress.database import write_transaction
    from documents import search
    from documents.tables import DocumentVersion

    rows = await DocumentVersion.raw(
        "SELECT v.id, v.text, d.title FROM document_version v JOIN document d ON d.id = v.document"
    )
    started = time.perf_counter()
    async with write_transaction():
        for row in rows:
            await search.index_version(row["id"], row["title"], row["text"])
    return len(rows), time.perf_counter() - started


async def make_baseline_column() -> None:
    """The folded title and text of every version, in a table of the benchmark's own."""
    from congress.database import write_transaction
    from documents.search import fold_same_length
    from documents.tables import DocumentVersion

    await DocumentVersion.raw(
        "CREATE TABLE bench_folded (version INTEGER PRIMARY KEY, folded TEXT NOT NULL)"
    )
    rows = await DocumentVersion.raw(
        "SELECT v.id, v.text, d.title FROM document_version v JOIN document d ON d.id = v.document"
    )
    async with write_transaction():
        for row in rows:
            folded = f"{fold_same_length(row['title'])}\n{fold_same_length(row['text'])}"
            await DocumentVersion.raw(
                "INSERT INTO bench_folded (version, folded) VALUES ({}, {})", row["id"], folded
            )


async def like_scan(congress_id: int, query: str, kind: str, confidential: bool) -> int:
    """The baseline: every word as LIKE '%word%' over the folded text, no index to help."""
    from piccolo.querystring import QueryString

    from documents import search
    from documents.tables import DocumentVersion

    words = search.query_words(query)
    if not words:
        return 0
    likes = QueryString(" AND ".join(["f.folded LIKE {}"] * len(words)), *[f"%{w}%" for w in words])
    visible = search._audience_filter(search.Audience(kind, confidential))  # type: ignore[arg-type]
    rows = await DocumentVersion.raw(
        "SELECT d.id, d.title, v.text, count(*) OVER () AS total FROM bench_folded f"
        " JOIN document_version v ON v.id = f.version JOIN document d ON d.id = v.document"
        " WHERE v.congress = {} AND d.congress = {} AND {} AND {} ORDER BY d.id LIMIT {}",
        congress_id,
        congress_id,
        visible,
        likes,
        PAGE,
    )
    return int(rows[0]["total"]) if rows else 0


async def timed(
    run: Callable[[str], Awaitable[int]], all_queries: list[str]
) -> tuple[list[float], list[int]]:
    for query in all_queries:  # one pass unmeasured: the caches as after a few minutes of use
        await run(query)
    seconds, totals = [], []
    for query in all_queries:
        started = time.perf_counter()
        totals.append(await run(query))
        seconds.append(time.perf_counter() - started)
    return seconds, totals


def ms(values: list[float]) -> tuple[float, float]:
    return statistics.median(values) * 1000, statistics.quantiles(values, n=100)[98] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    async with harness.fresh_database():
        from congress import database
        from congress.schemas import CongressIn
        from congress.services import create_congress
        from documents import search

        rng = random.Random(4)
        async with database.database_pool(4):
            await database.migrate()
            # Another congress's papers are in the index too, and must cost nothing.
            other = await create_congress(CongressIn(name="Đại hội khác"))
            await fill_archive(other, args.documents // 5, rng)
            congress_id = await create_congress(CongressIn(name="Đại hội Công đoàn tỉnh"))
            versions = await fill_archive(congress_id, args.documents, rng)
            indexed_count, index_seconds = await index_all()
            await make_baseline_column()
            if SERVER:
                await search.DocumentVersion.raw("ANALYZE")
            all_queries = queries(rng, args.queries)

            results: dict[str, dict[str, Any]] = {}
            for label, (kind, confidential) in AUDIENCES.items():
                audience = search.Audience(kind, confidential)  # type: ignore[arg-type]

                async def indexed(query: str, audience: search.Audience = audience) -> int:
                    total, _ = await search.search(congress_id, query, audience, limit=PAGE)
                    return total

                async def scanned(
                    query: str, kind: str = kind, confidential: bool = confidential
                ) -> int:
                    return await like_scan(congress_id, query, kind, confidential)

                fts, fts_totals = await timed(indexed, all_queries)
                like, like_totals = await timed(scanned, all_queries)
                results[label] = {
                    "fts": ms(fts),
                    "like": ms(like),
                    "hits": statistics.median(fts_totals),
                    "none": sum(1 for t in fts_totals if t == 0),
                    "like hits": statistics.median(like_totals),
                }

        engine = "postgresql" if SERVER else "sqlite"
        print(
            f"\nDocument search, {args.documents} documents ({len(versions)} versions), {engine},"
            f" {len(all_queries)} queries per audience, page of {PAGE} (ms)\n"
        )
        print(
            "| audience | search median | search p99 | LIKE baseline median | LIKE baseline p99 |"
            " median matches (search / LIKE) | queries with no match |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for label, r in results.items():
            print(
                f"| {label} | {r['fts'][0]:.1f} | {r['fts'][1]:.1f} | {r['like'][0]:.1f} |"
                f" {r['like'][1]:.1f} | {r['hits']:.0f} / {r['like hits']:.0f} | {r['none']} |"
            )
        print(
            f"\nindexing all {indexed_count} versions (both congresses), one transaction:"
            f" {index_seconds:.2f} s ({index_seconds / indexed_count * 1000:.2f} ms each)"
        )
        worst = max(max(r["fts"]) for r in results.values())
        print(f"goal: median and p99 <= 50 ms -> {'met' if worst <= 50 else 'NOT met'}")
        print(f"example queries: {', '.join(all_queries[:8])}")


if __name__ == "__main__":
    asyncio.run(main())

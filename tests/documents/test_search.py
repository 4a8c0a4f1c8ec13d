"""Searching the archive: with or without diacritics, every word as a prefix, only what the
searcher may see, on SQLite (FTS5) and PostgreSQL (tsvector) alike."""

from __future__ import annotations

import datetime

import pytest

from documents import search
from documents.search import Audience, fold_same_length
from documents.tables import Document, DocumentVersion

ORGANIZER = Audience("organizer")
CHIEF_ORGANIZER = Audience("organizer", can_see_confidential=True)
DELEGATE = Audience("delegate")
PUBLIC = Audience("public")

REPORT_TITLE = "Dự thảo Báo cáo chính trị của Ban Chấp hành"
REPORT_TEXT = (
    "Công đoàn Việt Nam đã trải qua một nhiệm kỳ nhiều thử thách. "
    "Báo cáo chính trị trình Đại hội XIII đánh giá kết quả thực hiện Nghị quyết, "
    "chăm lo đời sống đoàn viên và người lao động, đề ra phương hướng nhiệm kỳ 2023–2028."
)


async def add_document(
    congress_id: int,
    title: str,
    texts: list[str],
    *,
    access: str = "public",
    released: int | None = 1,
) -> int:
    """A document with one version per text, each indexed as the upload service does."""
    now = datetime.datetime.now(datetime.UTC)
    rows = await Document.insert(
        Document(
            congress=congress_id,
            title=title,
            category="report",
            access=access,
            latest_version=len(texts),
            released_version=released,
            created_at=now,
            updated_at=now,
        )
    ).returning(Document.id)
    document_id = int(rows[0]["id"])
    for number, text in enumerate(texts, start=1):
        version = await DocumentVersion.insert(
            DocumentVersion(
                congress=congress_id,
                document=document_id,
                number=number,
                sha256=f"{document_id:032d}{number:032d}",
                size=len(text.encode()),
                media_type="text/plain",
                text=text,
                uploaded_at=now,
            )
        ).returning(DocumentVersion.id)
        await search.index_version(int(version[0]["id"]), title, text)
    return document_id


async def found(congress_id: int, query: str, audience: Audience = ORGANIZER) -> list[int]:
    total, hits = await search.search(congress_id, query, audience, limit=100)
    assert total == len(hits)
    return [hit.document_id for hit in hits]


def marked(hit: search.SearchHit) -> list[str]:
    return [part.text for part in hit.snippet if part.match]


def snippet_text(hit: search.SearchHit) -> str:
    return "".join(part.text for part in hit.snippet)


@pytest.fixture
async def report(make_congress) -> tuple[int, int]:
    congress_id = await make_congress()
    document_id = await add_document(congress_id, REPORT_TITLE, [REPORT_TEXT])
    await add_document(congress_id, "Chương trình Đại hội", ["Khai mạc, bầu Đoàn Chủ tịch."])
    await add_document(congress_id, "Quy chế bầu cử", ["Bỏ phiếu kín để bầu Ban Chấp hành."])
    return congress_id, document_id


def test_folding_keeps_the_length_of_the_text() -> None:
    assert fold_same_length("Đại hội Công đoàn") == "dai hoi cong doan"
    # Decomposed input is composed first: offsets are those of the NFC text.
    assert fold_same_length("Đa\u0323i ho\u0302\u0323i") == "dai hoi"
    original = "Báo cáo CHÍNH TRỊ, nhiệm kỳ 2023–2028 ﬁ"
    assert len(fold_same_length(original)) == len(original)
    assert fold_same_length(original) == "bao cao chinh tri, nhiem ky 2023–2028 ﬁ"


async def test_without_diacritics_finds_the_report_and_marks_the_original_words(report) -> None:
    congress_id, document_id = report
    total, hits = await search.search(congress_id, "bao cao chinh tri", ORGANIZER)
    assert total == 1
    (hit,) = hits
    assert hit.document_id == document_id
    assert hit.title == REPORT_TITLE
    assert hit.version_number == 1
    # Every word is a prefix: "tri" marks "trị" and "trình" alike.
    assert "Báo cáo chính trị trình" in marked(hit)
    assert "Báo cáo chính trị trình Đại hội XIII" in snippet_text(hit)


@pytest.mark.parametrize(
    "query",
    ["dai hoi", "Đại hội", "ĐẠI HỘI", "đại", "Dai Hoi XIII", "  dai   hoi  "],
)
async def test_dai_hoi_with_or_without_diacritics(report, query) -> None:
    congress_id, document_id = report
    assert document_id in await found(congress_id, query)
    _, hits = await search.search(congress_id, query, ORGANIZER)
    hit = next(h for h in hits if h.document_id == document_id)
    assert any(text.startswith("Đại") for text in marked(hit))


@pytest.mark.parametrize("query", ["chinh tr", "chính tr", "bao ca chin", "nhiem k 2023"])
async def test_every_word_is_a_prefix(report, query) -> None:
    congress_id, document_id = report
    assert await found(congress_id, query) == [document_id]


async def test_every_word_must_match(report) -> None:
    congress_id, document_id = report
    assert len(await found(congress_id, "ban chap hanh")) == 2
    assert await found(congress_id, "ban chap hanh doan vien") == [document_id]
    assert await found(congress_id, "bao cao phieu kin") == []


async def test_title_words_count_with_the_text_words(report) -> None:
    congress_id, document_id = report
    # "Dự thảo" is only in the title, "đời sống" only in the text.
    assert await found(congress_id, "du thao doi song") == [document_id]


async def test_the_snippet_falls_back_to_the_title(report) -> None:
    congress_id, document_id = report
    _, (hit,) = await search.search(congress_id, "du thao", ORGANIZER)
    assert hit.document_id == document_id
    assert snippet_text(hit) == REPORT_TITLE
    assert marked(hit) == ["Dự thảo"]


@pytest.mark.parametrize("query", ["xyzzy", "quocphong", "bao cao xyzzy"])
async def test_a_word_that_appears_nowhere_finds_nothing(report, query) -> None:
    congress_id, _ = report
    assert await search.search(congress_id, query, ORGANIZER) == (0, [])


@pytest.mark.parametrize("query", ["", "   ", "*", ":*|!", "–…", "!!!"])
async def test_a_query_without_words_finds_nothing(report, query) -> None:
    congress_id, _ = report
    assert await search.search(congress_id, query, ORGANIZER) == (0, [])


@pytest.mark.parametrize(
    "query",
    [
        '" OR 1=1 --',
        "*",
        "NEAR(",
        "NEAR(dai hoi, 2)",
        ":*|!",
        "dai:* | !hoi",
        "bao & (cao | !chinh)",
        "'; DROP TABLE document; --",
        'title:"dai" OR body:hoi*',
        "dai AND hoi NOT cao",
        "^dai + {hoi}",
        "{}",
        "%_%",
        "\\x00 \x00 dai",
    ],
)
async def test_query_syntax_is_only_text(report, query) -> None:
    congress_id, _ = report
    total, hits = await search.search(congress_id, query, ORGANIZER)
    assert total == len(hits)
    # The archive is still there and still searchable.
    assert len(await found(congress_id, "dai hoi")) == 2


@pytest.fixture
async def archive(make_congress) -> tuple[int, dict[str, int]]:
    """Every access level, released or not; every text says "Công đoàn"."""
    congress_id = await make_congress()
    documents = {
        "public": await add_document(congress_id, "Thông báo Công đoàn", ["Lịch họp công khai."]),
        "public, not released": await add_document(
            congress_id, "Thông cáo báo chí Công đoàn", ["Dự kiến."], released=None
        ),
        "delegates": await add_document(
            congress_id,
            "Tài liệu đại biểu Công đoàn",
            ["Bản cũ: ngân sách năm trước.", "Bản mới: kinh phí năm nay."],
            access="delegates",
            released=1,
        ),
        "delegates, not released": await add_document(
            congress_id, "Dự thảo Công đoàn", ["Sơ bộ."], access="delegates", released=None
        ),
        "organizers": await add_document(
            congress_id, "Phương án Công đoàn", ["Nội bộ."], access="organizers", released=None
        ),
        "confidential": await add_document(
            congress_id, "Nhân sự Công đoàn", ["Bí mật."], access="confidential", released=None
        ),
    }
    return congress_id, documents


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        (
            CHIEF_ORGANIZER,
            {
                "public",
                "public, not released",
                "delegates",
                "delegates, not released",
                "organizers",
                "confidential",
            },
        ),
        (
            ORGANIZER,
            {
                "public",
                "public, not released",
                "delegates",
                "delegates, not released",
                "organizers",
            },
        ),
        (DELEGATE, {"public", "delegates"}),
        (PUBLIC, {"public"}),
        # The flag opens confidential papers to organizers only.
        (Audience("delegate", can_see_confidential=True), {"public", "delegates"}),
        (Audience("public", can_see_confidential=True), {"public"}),
    ],
)
async def test_who_sees_what(archive, audience, expected) -> None:
    congress_id, documents = archive
    ids = await found(congress_id, "cong doan", audience)
    assert sorted(ids) == sorted(documents[name] for name in expected)


async def test_organizers_search_the_latest_version_delegates_the_released_one(archive) -> None:
    congress_id, documents = archive
    paper = documents["delegates"]
    assert await found(congress_id, "ngan sach", ORGANIZER) == []
    assert await found(congress_id, "kinh phi", ORGANIZER) == [paper]
    assert await found(congress_id, "ngan sach", DELEGATE) == [paper]
    assert await found(congress_id, "kinh phi", DELEGATE) == []
    assert await found(congress_id, "ngan sach", PUBLIC) == []

    _, (latest,) = await search.search(congress_id, "kinh phi", ORGANIZER)
    assert (latest.version_number, marked(latest)) == (2, ["kinh phí"])
    _, (released,) = await search.search(congress_id, "ngan sach", DELEGATE)
    assert (released.version_number, marked(released)) == (1, ["ngân sách"])
    assert released.access == "delegates"


async def test_another_congress_is_never_searched(report, make_congress) -> None:
    congress_id, document_id = report
    other = await make_congress()
    theirs = await add_document(other, REPORT_TITLE, [REPORT_TEXT])
    for audience in (CHIEF_ORGANIZER, DELEGATE, PUBLIC):
        assert await found(congress_id, "bao cao chinh tri", audience) == [document_id]
        assert await found(other, "bao cao chinh tri", audience) == [theirs]


async def test_a_new_title_is_searched_and_the_old_one_is_not(report) -> None:
    congress_id, document_id = report
    new_title = "Văn kiện Đại hội: Báo cáo tổng kết"
    await Document.update({Document.title: new_title}).where(Document.id == document_id)
    await search.reindex_title(document_id, new_title)
    assert await found(congress_id, "van kien tong ket") == [document_id]
    assert await found(congress_id, "du thao") == []
    _, (hit,) = await search.search(congress_id, "van kien", ORGANIZER)
    assert hit.title == new_title


async def test_indexing_a_version_again_replaces_it(report) -> None:
    congress_id, document_id = report
    version = await DocumentVersion.select(DocumentVersion.id).where(
        DocumentVersion.document == document_id
    )
    await search.index_version(version[0]["id"], REPORT_TITLE, "Văn bản đã sửa.")
    await search.index_version(version[0]["id"], REPORT_TITLE, "Văn bản đã sửa.")
    assert await found(congress_id, "van ban da sua") == [document_id]
    assert await found(congress_id, "doan vien") == []


async def test_a_title_match_ranks_first_then_the_document_id(make_congress) -> None:
    congress_id = await make_congress()
    in_text = [
        await add_document(congress_id, f"Phụ lục {n}", ["Danh sách thi đua khen thưởng."])
        for n in range(3)
    ]
    in_title = await add_document(congress_id, "Khen thưởng", ["Danh sách tập thể."])
    total, hits = await search.search(congress_id, "khen thuong", ORGANIZER)
    assert total == 4
    assert [h.document_id for h in hits] == [in_title, *in_text]
    assert hits[0].rank > hits[1].rank >= hits[-1].rank


async def test_pages(make_congress) -> None:
    congress_id = await make_congress()
    ids = [
        await add_document(congress_id, f"Biên bản phiên họp {n}", ["Biên bản."]) for n in range(5)
    ]
    total, first = await search.search(congress_id, "bien ban", ORGANIZER, limit=2)
    _, second = await search.search(congress_id, "bien ban", ORGANIZER, limit=2, offset=2)
    _, third = await search.search(congress_id, "bien ban", ORGANIZER, limit=2, offset=4)
    assert total == 5
    assert [h.document_id for h in first + second + third] == ids
    assert await search.search(congress_id, "bien ban", ORGANIZER, limit=2, offset=10) == (5, [])


async def test_a_long_text_gives_about_thirty_words_around_the_first_match(make_congress) -> None:
    congress_id = await make_congress()
    filler = " ".join(f"câu{n}" for n in range(200))
    text = f"{filler} Điều lệ Công đoàn sửa đổi.\n\nĐiều 1. {filler}"
    await add_document(congress_id, "Tài liệu", [text])
    _, (hit,) = await search.search(congress_id, "dieu le", ORGANIZER)
    shown = snippet_text(hit)
    assert shown.startswith("…")
    assert shown.endswith("…")
    assert "câu190 câu191" in shown
    assert "Điều lệ Công đoàn sửa đổi. Điều 1." in shown
    assert marked(hit) == ["Điều lệ", "Điều"]
    assert 25 <= len(shown.split()) <= 35


async def test_a_deleted_document_leaves_nothing_to_find(report) -> None:
    congress_id, document_id = report
    await Document.delete().where(Document.id == document_id)
    assert await found(congress_id, "bao cao chinh tri") == []
    # A version filed next may get the deleted one's id (SQLite does that); it is not
    # found by the old words before it is indexed.
    again = await add_document(congress_id, "Phụ lục", [])
    now = datetime.datetime.now(datetime.UTC)
    await DocumentVersion.insert(
        DocumentVersion(
            congress=congress_id,
            document=again,
            number=1,
            sha256="f" * 64,
            size=0,
            media_type="text/plain",
            text="",
            uploaded_at=now,
        )
    )
    await Document.update({Document.latest_version: 1}).where(Document.id == again)
    assert await found(congress_id, "bao cao chinh tri") == []

"""Full-text search of the archive through the database's own index, alike on both engines.

SQLite keeps an FTS5 table ``document_search(title, body)`` whose rowid is the version id;
PostgreSQL keeps a ``search_vector`` column on ``document_version`` with a GIN index. Both
are derived from ``document_version.text``, which stays the source of truth.

Both indexes get the same words: the text folded here (lower case, no diacritics, đ -> d)
and cut into runs of [a-z0-9], so that "bao cao chinh tri" finds "Báo cáo chính trị" and
"dai hoi" finds "Đại hội" on either engine. The fold keeps the length of the text, so a
match found in the folded text is cut out of the original, diacritics and all, for the
snippet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any, Literal

import msgspec
from piccolo.querystring import QueryString

from congress.database import engine, write_transaction
from congress.text import fold
from documents.tables import DocumentVersion

# Words in the folded text: what both indexes and the query are made of.
_WORD = re.compile(r"[a-z0-9]+")
_SPACES = re.compile(r"\s+")
# A query longer than this is cut: every word is one more index lookup.
MAX_QUERY_WORDS = 12
# The snippet: this many words, starting this many before the first match.
SNIPPET_WORDS = 30
SNIPPET_WORDS_BEFORE = 10
# SQLite's bm25 weights for the columns (title, body): a match in the title counts more.
TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0
ELLIPSIS = "…"


class Audience(msgspec.Struct, frozen=True):
    """Who searches: organizers see the latest version; delegates and the public the released
    one, of the papers their access level opens to them."""

    kind: Literal["organizer", "delegate", "public"]
    can_see_confidential: bool = False


class SnippetPart(msgspec.Struct, frozen=True):
    text: str
    match: bool


class SearchHit(msgspec.Struct):
    document_id: int
    version_id: int
    version_number: int
    title: str
    category: str
    access: str
    snippet: list[SnippetPart]
    rank: float


# --- folding -----------------------------------------------------------------------------


def _fold_char(char: str) -> str:
    folded = fold(char)
    return folded if len(folded) == 1 else char


class _FoldTable(dict[int, str]):
    """str.translate's table, filled on first sight of each character."""

    def __missing__(self, codepoint: int) -> str:
        folded = self[codepoint] = _fold_char(chr(codepoint))
        return folded


_FOLD_TABLE = _FoldTable()


def fold_same_length(text: str) -> str:
    """The NFC text with each character folded on its own ("Đại" -> "dai"); a character whose
    fold is not exactly one character stays as it is, so offsets stay those of the NFC text."""
    return unicodedata.normalize("NFC", text).translate(_FOLD_TABLE)


def index_form(text: str) -> str:
    """The words that go into the index: folded, [a-z0-9] only, one space apart."""
    return " ".join(_WORD.findall(fold_same_length(text)))


def query_words(query: str) -> list[str]:
    """The query's words as the index has them, each once, in order; other characters drop."""
    words = list(dict.fromkeys(_WORD.findall(fold_same_length(query))))
    return words[:MAX_QUERY_WORDS]


def _is_sqlite() -> bool:
    return bool(engine().engine_type == "sqlite")


# --- indexing ----------------------------------------------------------------------------


async def index_version(version_id: int, title: str, text: str) -> None:
    """(Re)index one version; joins the transaction that is open, if any."""
    title_words, body_words = index_form(title), index_form(text)
    if not _is_sqlite():
        await DocumentVersion.raw(
            "UPDATE document_version SET search_vector ="
            " setweight(to_tsvector('simple', {}::text), 'A')"
            " || setweight(to_tsvector('simple', {}::text), 'B')"
            " WHERE id = {}",
            title_words,
            body_words,
            version_id,
        )
        return
    # FTS5 has no upsert: out with the old row, in with the new, in one transaction.
    async with write_transaction():
        await DocumentVersion.raw("DELETE FROM document_search WHERE rowid = {}", version_id)
        await DocumentVersion.raw(
            "INSERT INTO document_search (rowid, title, body) VALUES ({}, {}, {})",
            version_id,
            title_words,
            body_words,
        )


async def reindex_title(document_id: int, title: str) -> None:
    """The document's title changed: every one of its versions is indexed again."""
    async with write_transaction():
        versions = await DocumentVersion.select(DocumentVersion.id, DocumentVersion.text).where(
            DocumentVersion.document == document_id
        )
        for version in versions:
            await index_version(version["id"], title, version["text"])


async def reindex_all(batch_size: int = 200) -> int:
    """Index every version from its text, a batch of texts in memory at a time; returns how
    many. For a database that had versions before the index existed."""
    count, after = 0, 0
    async with write_transaction():
        while rows := await DocumentVersion.raw(
            "SELECT v.id, v.text, d.title FROM document_version v"
            " JOIN document d ON d.id = v.document WHERE v.id > {} ORDER BY v.id LIMIT {}",
            after,
            batch_size,
        ):
            for row in rows:
                await index_version(row["id"], row["title"], row["text"])
            count, after = count + len(rows), rows[-1]["id"]
    return count


# --- searching ---------------------------------------------------------------------------

_AUDIENCE_FILTERS = {
    ("organizer", True): "v.number = d.latest_version",
    ("organizer", False): "v.number = d.latest_version AND d.access <> 'confidential'",
    ("delegate", False): (
        "d.released_version IS NOT NULL AND v.number = d.released_version"
        " AND d.access IN ('public', 'delegates')"
    ),
    ("public", False): (
        "d.released_version IS NOT NULL AND v.number = d.released_version AND d.access = 'public'"
    ),
}


def _audience_filter(audience: Audience) -> QueryString:
    # Only organizers may ever see confidential papers, whatever the flag says.
    confidential = audience.kind == "organizer" and audience.can_see_confidential
    try:
        return QueryString(_AUDIENCE_FILTERS[(audience.kind, confidential)])
    except KeyError:
        raise ValueError(f"unknown audience: {audience.kind!r}") from None


def _matches(congress_id: int, words: Sequence[str], audience: Audience) -> QueryString:
    """FROM ... WHERE ...: the versions that match every word and that the audience may see,
    each with its ``score`` (higher is better on both engines)."""
    visible = _audience_filter(audience)
    if _is_sqlite():
        # Each word quoted: whatever the user typed is a string to FTS5, never its syntax.
        # bm25 is lower-is-better, so negated; it must be computed in a query of its own,
        # FTS5 refuses it in one with a window function. CROSS JOIN keeps the full-text
        # lookup the outer loop: the planner would rather walk the congress's versions and
        # run the whole MATCH again for each of them (minutes on 5,000 documents).
        match = " AND ".join(f'"{word}"*' for word in words)
        return QueryString(
            "FROM (SELECT rowid AS id, -bm25(document_search, {}, {}) AS score"
            " FROM document_search WHERE document_search MATCH {}) hit"
            " CROSS JOIN document_version v ON v.id = hit.id"
            " CROSS JOIN document d ON d.id = v.document"
            " WHERE v.congress = {} AND d.congress = {} AND {}",
            TITLE_WEIGHT,
            BODY_WEIGHT,
            match,
            congress_id,
            congress_id,
            visible,
        )
    # Ranked by the words OR'd: weighted frequency, as bm25 does. ts_rank of the AND query
    # also scores every pair of positions of two words: on 5,000 matches of common words
    # that took the search from 30 ms to 90 ms ("cong doan c").
    return QueryString(
        "FROM (SELECT to_tsquery('simple', {}::text) AS query,"
        " to_tsquery('simple', {}::text) AS ranked) hit"
        " JOIN document_version v ON v.search_vector @@ hit.query"
        " JOIN document d ON d.id = v.document"
        " WHERE v.congress = {} AND d.congress = {} AND {}",
        " & ".join(f"{word}:*" for word in words),
        " | ".join(f"{word}:*" for word in words),
        congress_id,
        congress_id,
        visible,
    )


def _score() -> QueryString:
    if _is_sqlite():
        return QueryString("hit.score")
    # Weights of D, C, B (the text), A (the title): the title counts ten times, as in bm25.
    weights = [0.1, 0.2, BODY_WEIGHT / TITLE_WEIGHT, 1.0]
    return QueryString("ts_rank({}::real[], v.search_vector, hit.ranked)", weights)


async def search(
    congress_id: int, query: str, audience: Audience, *, limit: int = 20, offset: int = 0
) -> tuple[int, list[SearchHit]]:
    """The documents of the congress whose visible version matches every word of the query,
    each word as a prefix, best first: (how many in all, this page)."""
    words = query_words(query)
    if not words or limit <= 0:
        return 0, []
    matches = _matches(congress_id, words, audience)
    # The page is ranked and cut first; only its rows' texts are read for the snippets.
    rows = await DocumentVersion.raw(
        "SELECT page.*, v.text FROM ("
        " SELECT d.id AS document_id, v.id AS version_id, v.number AS version_number,"
        " d.title, d.category, d.access, {} AS score, count(*) OVER () AS total {}"
        " ORDER BY score DESC, d.id LIMIT {} OFFSET {}"
        ") page JOIN document_version v ON v.id = page.version_id"
        " ORDER BY page.score DESC, page.document_id",
        _score(),
        matches,
        limit,
        max(offset, 0),
    )
    if rows:
        total = int(rows[0]["total"])
    elif offset > 0:
        counted = await DocumentVersion.raw("SELECT count(*) AS total {}", matches)
        total = int(counted[0]["total"])
    else:
        total = 0
    return total, [_hit(row, words) for row in rows]


def _hit(row: dict[str, Any], words: Sequence[str]) -> SearchHit:
    return SearchHit(
        document_id=row["document_id"],
        version_id=row["version_id"],
        version_number=row["version_number"],
        title=row["title"],
        category=row["category"],
        access=row["access"],
        snippet=snippet(row["text"] or "", row["title"], words),
        rank=float(row["score"]),
    )


# --- snippets ----------------------------------------------------------------------------


def snippet(text: str, title: str, words: Sequence[str]) -> list[SnippetPart]:
    """About 30 words of the original text around the first match, the matches marked;
    the title when the text has none."""
    prefixes = tuple(words)
    for source in (text, title):
        parts = _snippet_of(unicodedata.normalize("NFC", source), prefixes)
        if parts:
            return parts
    return [SnippetPart(unicodedata.normalize("NFC", title), False)]


def _snippet_of(original: str, prefixes: tuple[str, ...]) -> list[SnippetPart]:
    tokens = list(_WORD.finditer(fold_same_length(original)))
    marked = [i for i, token in enumerate(tokens) if token.group().startswith(prefixes)]
    if not marked:
        return []
    first = max(0, marked[0] - SNIPPET_WORDS_BEFORE)
    last = min(len(tokens), first + SNIPPET_WORDS)
    first = max(0, last - SNIPPET_WORDS)
    start = 0 if first == 0 else _word_start(original, tokens[first].start(), tokens[first - 1])
    end = len(original) if last == len(tokens) else _word_end(original, tokens, last)

    parts: list[SnippetPart] = []
    if start > 0:
        _append(parts, ELLIPSIS, False)
    position = start
    for mark_start, mark_end in _marked_spans(original, tokens, marked, first, last):
        _append(parts, original[position:mark_start], False)
        _append(parts, original[mark_start:mark_end], True)
        position = mark_end
    _append(parts, original[position:end], False)
    if end < len(original):
        _append(parts, ELLIPSIS, False)
    return _trimmed(parts)


def _word_start(original: str, position: int, previous: re.Match[str]) -> int:
    """Back to the whitespace before the word, so that "(Đại" keeps its bracket."""
    while position > previous.end() and not original[position - 1].isspace():
        position -= 1
    return position


def _word_end(original: str, tokens: list[re.Match[str]], last: int) -> int:
    position, limit = tokens[last - 1].end(), tokens[last].start()
    while position < limit and not original[position].isspace():
        position += 1
    return position


def _marked_spans(
    original: str, tokens: list[re.Match[str]], marked: list[int], first: int, last: int
) -> list[tuple[int, int]]:
    """The matched words in the window; neighbours with only spaces between are one span."""
    spans: list[tuple[int, int]] = []
    for i in marked:
        if not first <= i < last:
            continue
        start, end = tokens[i].span()
        if spans and not original[spans[-1][1] : start].strip():
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _append(parts: list[SnippetPart], text: str, match: bool) -> None:
    text = _SPACES.sub(" ", text)
    if not text:
        return
    if parts and parts[-1].match == match:
        parts[-1] = SnippetPart(parts[-1].text + text, match)
    else:
        parts.append(SnippetPart(text, match))


def _trimmed(parts: list[SnippetPart]) -> list[SnippetPart]:
    if parts and not parts[0].match:
        parts[0] = SnippetPart(parts[0].text.lstrip(), False)
    if parts and not parts[-1].match:
        parts[-1] = SnippetPart(parts[-1].text.rstrip(), False)
    return [part for part in parts if part.text]

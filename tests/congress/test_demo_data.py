"""The demo congress: deterministic, the right size, consistent, and in proper Vietnamese."""

import datetime
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator

import msgspec
import pytest

from congress.demo_data import DemoCongress, demo_congress
from congress.text import name_sort_key

# Hà Tĩnh's 13 district-level units, as they were in 2023.
DISTRICT_FEDERATIONS = {
    "Liên đoàn Lao động thành phố Hà Tĩnh",
    "Liên đoàn Lao động thị xã Hồng Lĩnh",
    "Liên đoàn Lao động thị xã Kỳ Anh",
    "Liên đoàn Lao động huyện Cẩm Xuyên",
    "Liên đoàn Lao động huyện Can Lộc",
    "Liên đoàn Lao động huyện Đức Thọ",
    "Liên đoàn Lao động huyện Hương Khê",
    "Liên đoàn Lao động huyện Hương Sơn",
    "Liên đoàn Lao động huyện Kỳ Anh",
    "Liên đoàn Lao động huyện Lộc Hà",
    "Liên đoàn Lao động huyện Nghi Xuân",
    "Liên đoàn Lao động huyện Thạch Hà",
    "Liên đoàn Lao động huyện Vũ Quang",
}

# "Hoà", "Thuý": the tone mark put on the last vowel of an open syllable. The project writes
# the traditional way ("Hòa", "Thúy", "khóa", "Ủy"), as Vietnamese official documents do.
NEW_STYLE_TONE = re.compile(r"(?<![qQ])(o[àáảãạèéẻẽẹ]|u[ỳýỷỹỵ])\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def congress() -> DemoCongress:
    return demo_congress()


def texts(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)


def test_the_same_seed_gives_the_same_congress(congress: DemoCongress) -> None:
    assert demo_congress(19) == congress
    assert msgspec.json.encode(demo_congress(19)) == msgspec.json.encode(congress)


def test_another_seed_gives_other_people(congress: DemoCongress) -> None:
    other = demo_congress(7)
    assert [d.full_name for d in other.delegates] != [d.full_name for d in congress.delegates]
    assert other.delegations == congress.delegations
    assert other.sittings == congress.sittings


def test_the_congress_is_hà_tĩnhs_nineteenth(congress: DemoCongress) -> None:
    assert congress.name == "Đại hội Công đoàn tỉnh Hà Tĩnh"
    assert congress.number == "XIX"
    assert congress.term == "2023–2028"
    assert congress.organizing_union == "Liên đoàn Lao động tỉnh Hà Tĩnh"
    assert "Hà Tĩnh" in congress.venue
    assert congress.starts_on.year == 2023
    assert (congress.ends_on - congress.starts_on).days == 1


def test_about_twenty_delegations_with_about_three_hundred_delegates(
    congress: DemoCongress,
) -> None:
    codes = [d.code for d in congress.delegations]
    assert 18 <= len(codes) <= 25
    assert len(set(codes)) == len(codes)
    assert 280 <= len(congress.delegates) <= 320
    per_delegation = Counter(d.delegation_code for d in congress.delegates)
    assert set(per_delegation) == set(codes)
    assert per_delegation.most_common(1)[0][0] in {"GD", "KM"}  # education is the big one


def test_every_district_level_federation_sends_a_delegation(congress: DemoCongress) -> None:
    assert {d.name for d in congress.delegations} >= DISTRICT_FEDERATIONS


def test_every_delegation_of_a_union_has_its_chairperson(congress: DemoCongress) -> None:
    for delegation in congress.delegations:
        members = [d for d in congress.delegates if d.delegation_code == delegation.code]
        if members[0].kind == "official":
            assert any(d.position.startswith("Chủ tịch ") for d in members), delegation.name


def test_most_delegates_are_official_some_invited_a_few_guests(congress: DemoCongress) -> None:
    kinds = Counter(d.kind for d in congress.delegates)
    assert set(kinds) == {"official", "invited", "guest"}
    assert kinds["official"] >= 0.85 * len(congress.delegates)
    assert 15 <= kinds["invited"] <= 35
    assert 3 <= kinds["guest"] <= 10


def test_card_numbers_run_in_order_of_delegation_then_name(congress: DemoCongress) -> None:
    numbers = [d.card_number for d in congress.delegates]
    assert numbers == [f"{n:03d}" for n in range(1, len(numbers) + 1)]
    order = {d.code: i for i, d in enumerate(congress.delegations)}
    keys = [(order[d.delegation_code], name_sort_key(d.full_name)) for d in congress.delegates]
    assert keys == sorted(keys)


def test_women_are_close_to_half(congress: DemoCongress) -> None:
    women = [d.gender == "female" for d in congress.delegates]
    assert {d.gender for d in congress.delegates} == {"male", "female"}
    assert 0.40 <= sum(women) / len(women) <= 0.60
    teachers = [d.gender == "female" for d in congress.delegates if d.delegation_code == "GD"]
    assert sum(teachers) / len(teachers) > 0.6


def test_names_are_vietnamese_and_match_the_gender(congress: DemoCongress) -> None:
    names = [d.full_name for d in congress.delegates]
    assert all(len(n.split()) >= 3 for n in names)
    assert sum(not n.isascii() for n in names) >= 0.9 * len(names)
    assert Counter(n.split()[0] for n in names).most_common(1)[0][0] == "Nguyễn"
    assert not any(" Thị " in d.full_name for d in congress.delegates if d.gender == "male")


def test_birth_years_are_plausible(congress: DemoCongress) -> None:
    officials = [d.birth_year for d in congress.delegates if d.kind == "official"]
    assert min(officials) >= 1965
    assert max(officials) <= 1995
    assert all(1950 <= d.birth_year <= 1995 for d in congress.delegates)


def test_every_text_is_nfc_with_traditional_tone_marks(congress: DemoCongress) -> None:
    everything = list(texts(msgspec.to_builtins(congress)))
    assert len(everything) > 1000
    for text in everything:
        assert unicodedata.is_normalized("NFC", text), text
        assert text == text.strip()
        assert not NEW_STYLE_TONE.search(text), text


def test_texts_fit_the_stored_columns(congress: DemoCongress) -> None:
    assert all(len(d.code) <= 16 and len(d.name) <= 300 for d in congress.delegations)
    for delegate in congress.delegates:
        assert delegate.full_name
        assert delegate.unit
        assert delegate.position
        assert len(delegate.full_name) <= 200
        assert len(delegate.unit) <= 300
        assert len(delegate.position) <= 300
    items = [item for sitting in congress.sittings for item in sitting.agenda]
    assert all(0 < len(item.title) <= 500 and len(item.presenter) <= 300 for item in items)


def test_three_sittings_follow_one_another(congress: DemoCongress) -> None:
    sittings = congress.sittings
    assert [s.kind for s in sittings] == ["preparatory", "plenary", "closing"]
    assert sittings[0].title == "Phiên trù bị"
    for sitting, following in itertools.pairwise(sittings):
        minutes = sum(item.duration_minutes for item in sitting.agenda)
        assert sitting.starts_at + datetime.timedelta(minutes=minutes) <= following.starts_at
    for sitting in sittings:
        assert sitting.agenda
        assert all(item.duration_minutes > 0 for item in sitting.agenda)
        assert congress.starts_on <= sitting.starts_at.date() <= congress.ends_on
        assert sitting.starts_at.tzinfo is None
        assert sitting.location


def test_the_agenda_follows_the_order_of_business(congress: DemoCongress) -> None:
    titles = [[item.title for item in sitting.agenda] for sitting in congress.sittings]
    preparatory, plenary, closing = titles
    assert any(t.startswith("Bầu Đoàn Chủ tịch") for t in preparatory)
    assert plenary.index("Khai mạc Đại hội") < plenary.index("Tham luận của các đại biểu")
    assert any("Báo cáo chính trị" in t for t in plenary)
    assert closing.index("Bầu Ban Chấp hành LĐLĐ tỉnh khóa XIX") < closing.index(
        "Thông qua Nghị quyết Đại hội"
    )
    assert closing[-2:] == ["Bế mạc Đại hội", "Chào cờ bế mạc"]

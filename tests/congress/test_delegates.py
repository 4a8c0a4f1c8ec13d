"""Browsing, searching and editing delegates; delegations with their counts."""

from __future__ import annotations

import pytest

from congress.delegates import services
from congress.delegates.schemas import DelegateIn, DelegationIn
from congress.eventlog import SYSTEM

PEOPLE = [
    ("Nguyễn Thị Hạnh", "official", "GD", "001"),
    ("Nguyễn Thị Hằng", "official", "GD", "002"),
    ("Trần Văn Đức", "official", "YT", "003"),
    ("Lê Dục", "invited", "YT", "004"),
    ("Đặng Quốc Bảo", "guest", None, "005"),
]


@pytest.fixture
async def congress_with_people(make_congress) -> tuple[int, dict[str, int]]:
    congress_id = await make_congress()
    delegations = {
        code: await services.add_delegation(congress_id, DelegationIn(code=code, name=name), SYSTEM)
        for code, name in (("GD", "Công đoàn ngành Giáo dục"), ("YT", "Công đoàn ngành Y tế"))
    }
    for name, kind, code, card in PEOPLE:
        await services.add_delegate(
            congress_id,
            DelegateIn(
                full_name=name,
                kind=kind,
                delegation_id=delegations[code] if code else None,
                card_number=card,
            ),
            SYSTEM,
        )
    return congress_id, delegations


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("nguyen thi hanh", ["Nguyễn Thị Hạnh"]),
        ("Nguyễn Thị Hạnh", ["Nguyễn Thị Hạnh"]),
        ("NGUYEN THI", ["Nguyễn Thị Hạnh", "Nguyễn Thị Hằng"]),
        ("Đức", ["Lê Dục", "Trần Văn Đức"]),
        ("duc", ["Lê Dục", "Trần Văn Đức"]),
        ("dang", ["Đặng Quốc Bảo"]),
        ("han", ["Nguyễn Thị Hạnh", "Nguyễn Thị Hằng"]),
        ("003", ["Trần Văn Đức"]),
        ("thi hanh nguyen", ["Nguyễn Thị Hạnh"]),
        ("văn hạnh", []),
        ("%", ["Nguyễn Thị Hạnh", "Nguyễn Thị Hằng", "Trần Văn Đức", "Lê Dục", "Đặng Quốc Bảo"]),
    ],
)
async def test_search_with_or_without_diacritics(admin, congress_with_people, query, expected):
    congress_id, _ = congress_with_people
    response = await admin.get(f"/api/congresses/{congress_id}/delegates", params={"q": query})
    assert response.status_code == 200
    names = [d["full_name"] for d in response.json()["delegates"]]
    assert sorted(names) == sorted(expected)


async def test_lists_sort_by_given_name_as_vietnamese_lists_do(admin, congress_with_people):
    congress_id, _ = congress_with_people
    response = await admin.get(f"/api/congresses/{congress_id}/delegates")
    names = [d["full_name"] for d in response.json()["delegates"]]
    assert names == [
        "Đặng Quốc Bảo",
        "Lê Dục",
        "Trần Văn Đức",
        "Nguyễn Thị Hạnh",
        "Nguyễn Thị Hằng",
    ]


async def test_filter_by_delegation_and_kind(admin, congress_with_people):
    congress_id, delegations = congress_with_people
    url = f"/api/congresses/{congress_id}/delegates"
    by_delegation = (await admin.get(url, params={"delegation": delegations["YT"]})).json()
    assert sorted(d["full_name"] for d in by_delegation["delegates"]) == ["Lê Dục", "Trần Văn Đức"]
    by_kind = (await admin.get(url, params={"kind": "invited"})).json()
    assert [d["full_name"] for d in by_kind["delegates"]] == ["Lê Dục"]
    assert (await admin.get(url, params={"kind": "president"})).status_code == 400


async def test_delegations_are_listed_with_counts(admin, congress_with_people):
    congress_id, _ = congress_with_people
    listed = (await admin.get(f"/api/congresses/{congress_id}/delegations")).json()
    counts = {d["code"]: (d["official"], d["invited"], d["guest"], d["delegates"]) for d in listed}
    assert counts == {"GD": (2, 0, 0, 2), "YT": (1, 1, 0, 2)}


async def test_edit_a_delegate(admin, congress_with_people):
    congress_id, delegations = congress_with_people
    url = f"/api/congresses/{congress_id}/delegates"
    duc = (await admin.get(url, params={"q": "003"})).json()["delegates"][0]
    body = {
        "full_name": "  Trần   Văn Đức ",
        "kind": "official",
        "delegation_id": delegations["GD"],
        "position": "Chủ tịch Công đoàn Bệnh viện",
        "birth_year": 1969,
        "gender": "male",
        "card_number": "003",
    }
    response = await admin.put(f"{url}/{duc['id']}", json=body)
    assert response.status_code == 200, response.text
    assert set(response.json()["changed"]) == {"delegation", "position", "birth_year", "gender"}
    edited = (await admin.get(f"{url}/{duc['id']}")).json()
    assert edited["full_name"] == "Trần Văn Đức"
    assert edited["delegation"] == "Công đoàn ngành Giáo dục"


async def test_a_card_number_belongs_to_one_delegate(admin, congress_with_people):
    congress_id, _ = congress_with_people
    response = await admin.post(
        f"/api/congresses/{congress_id}/delegates",
        json={"full_name": "Hồ Thị Lan", "kind": "official", "card_number": "001"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "card_number_taken"
    assert "001" in response.json()["message"]


async def test_bad_input_gets_a_code_and_a_vietnamese_message(admin, congress_with_people):
    congress_id, _ = congress_with_people
    url = f"/api/congresses/{congress_id}/delegates"
    unknown_field = await admin.post(url, json={"full_name": "A", "kind": "official", "x": 1})
    assert unknown_field.status_code == 400
    assert unknown_field.json()["code"] == "invalid_input"
    assert unknown_field.json()["message"] != "Some of what was sent is not valid."
    wrong_type = await admin.post(
        url, json={"full_name": "A", "kind": "official", "birth_year": "x"}
    )
    assert wrong_type.status_code == 400
    malformed = await admin.post(
        url, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["code"] in {"invalid_input", "bad_request"}


def test_the_sort_key_follows_the_vietnamese_alphabet() -> None:
    from congress.text import name_sort_key

    names = [
        "Nguyễn Thị Hằng",
        "Nguyễn Thị Hạnh",
        "Lê Văn Đức",
        "Lê Văn Dũng",
        "Trần Anh",
        "Phạm Ân",
        "Võ Thị Ánh",
        "Hồ Văn Ơn",
        "Hồ Văn Ôn",
        "Hồ Văn On",
    ]
    ordered = sorted(names, key=name_sort_key)
    assert ordered == [
        "Trần Anh",
        "Võ Thị Ánh",
        "Phạm Ân",
        "Lê Văn Dũng",
        "Lê Văn Đức",
        "Nguyễn Thị Hạnh",
        "Nguyễn Thị Hằng",
        "Hồ Văn On",
        "Hồ Văn Ôn",
        "Hồ Văn Ơn",
    ]


async def test_a_name_as_long_as_allowed_is_stored_and_sorted(admin, congress_with_people):
    # Found by tests/congress/test_api_fuzz.py on PostgreSQL: the sort key of a long name
    # (about four times its length) did not fit its column (a 500).
    congress_id, _ = congress_with_people
    long_name = "Nguyễn " * 28 + "Anh"
    response = await admin.post(
        f"/api/congresses/{congress_id}/delegates", json={"full_name": long_name, "kind": "guest"}
    )
    assert response.status_code == 201
    listed = (await admin.get(f"/api/congresses/{congress_id}/delegates")).json()
    assert long_name in [d["full_name"] for d in listed["delegates"]]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/delegates?q=Nguy%00n", None),
        ("POST", "/delegates", {"full_name": "Nguyễn\u0000 Thị Hạnh", "kind": "official"}),
        ("POST", "/delegations", {"code": "X", "name": "Công đoàn\u0000"}),
        ("GET", "/events?type=Delegate%00Added", None),
    ],
)
async def test_text_with_a_nul_character_is_refused(
    admin, congress_with_people, method, path, body
):
    # Found by tests/congress/test_api_fuzz.py on PostgreSQL, which cannot store or compare
    # text with NUL in it (a 500); SQLite took it.
    congress_id, _ = congress_with_people
    url = f"/api/congresses/{congress_id}{path}"
    response = await (admin.get(url) if body is None else admin.send(method, url, json=body))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"

"""The stream links and the public live page: what a reader of the page, of its feeds and of
its socket sees, and above all what they never see."""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import websockets

from congress.errors import InvalidInput
from congress.eventlog import SYSTEM, events_of
from congress.schemas import AgendaItemIn
from congress.services import add_agenda_item
from congress.voting import services as voting
from congress.voting.schemas import BallotIn, CandidateIn, PollIn
from documents import services as documents
from documents.schemas import Access, DocumentIn
from livestream.public.services import parse_stream_url
from livestream.screens.services import set_current_item
from tests.conftest import CSRF_COOKIE, LiveServer, Session
from tests.congress.voting_fixtures import make_assembly
from tests.documents.conftest import PNG_1PX

pytestmark = pytest.mark.usefixtures("migrated")

ATOM = "{http://www.w3.org/2005/Atom}"
TRICKY_TITLE = "Nghị quyết <Đại hội> & \"chương trình\" 'hành động' 2023–2028"
SECRETS = (
    "MẬT: danh sách nhân sự",  # confidential
    "Chỉ đại biểu: dự thảo báo cáo",  # released to delegates only
    "Chỉ ban tổ chức: kịch bản điều hành",  # organizers only
    "Bầu cử đang mở",  # an open poll
    "Biểu quyết chưa công bố",  # closed, not published
)
YOUTUBE_ID = "dQw4w9WgXcQ"


# --- stream addresses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"https://www.youtube.com/watch?v={YOUTUBE_ID}",
        f"https://youtube.com/watch?v={YOUTUBE_ID}&t=42s",
        f"https://m.youtube.com/watch?feature=share&v={YOUTUBE_ID}",
        f"https://www.youtube.com/live/{YOUTUBE_ID}?si=abc",
        f"https://youtu.be/{YOUTUBE_ID}",
        f"https://www.youtube.com/embed/{YOUTUBE_ID}",
    ],
)
def test_youtube_addresses_become_the_embedded_player(url: str) -> None:
    stream = parse_stream_url(url)
    assert stream.kind == "youtube"
    assert stream.embed_url == f"https://www.youtube-nocookie.com/embed/{YOUTUBE_ID}"


@pytest.mark.parametrize(
    ("url", "href"),
    [
        (
            "https://www.facebook.com/congdoanhatinh/videos/1234567890123456/",
            "https://www.facebook.com/congdoanhatinh/videos/1234567890123456/",
        ),
        (
            "https://facebook.com/congdoanhatinh/videos/dai-hoi/1234567890123456",
            "https://www.facebook.com/congdoanhatinh/videos/1234567890123456/",
        ),
        (
            "https://www.facebook.com/watch/?v=1234567890123456",
            "https://www.facebook.com/watch/?v=1234567890123456",
        ),
        (
            "https://m.facebook.com/watch/live/?v=1234567890123456&ref=share",
            "https://www.facebook.com/watch/?v=1234567890123456",
        ),
        ("https://fb.watch/aBc-12_x/", "https://fb.watch/aBc-12_x/"),
    ],
)
def test_facebook_videos_become_the_video_plugin(url: str, href: str) -> None:
    stream = parse_stream_url(url)
    assert stream.kind == "facebook"
    embed = urlsplit(stream.embed_url)
    assert f"{embed.scheme}://{embed.netloc}{embed.path}" == (
        "https://www.facebook.com/plugins/video.php"
    )
    assert parse_qs(embed.query)["href"] == [href]


def test_an_hls_playlist_is_played_as_it_is() -> None:
    url = "https://cdn.baohatinh.vn/live/dai-hoi/index.M3U8?token=abc"
    stream = parse_stream_url("  " + url + " ")
    assert (stream.kind, stream.url, stream.embed_url) == ("hls", url, url)


@pytest.mark.parametrize(
    "url",
    [
        f"http://www.youtube.com/watch?v={YOUTUBE_ID}",  # not https
        "http://cdn.example.vn/live.m3u8",
        "javascript:alert(1)//.m3u8",
        "https://www.youtube.com/watch?v=short",
        "https://www.youtube.com/@congdoanhatinh/live",
        "https://www.facebook.com/congdoanhatinh",
        "https://www.facebook.com/watch/?v=abc",
        "https://example.vn/video.mp4",
        "https://user:pass@cdn.example.vn/live.m3u8",
        "https://cdn.example.vn/live .m3u8",
        "https://cdn.example.vn:99999/live.m3u8",
        "ftp://cdn.example.vn/live.m3u8",
        "",
    ],
)
def test_other_addresses_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_stream_url(url)
    assert refused.value.code == "stream_url_invalid"
    assert refused.value.field == "url"


# --- set-up ----------------------------------------------------------------------------------


@pytest.fixture
async def hall(make_congress: Callable[..., Awaitable[int]]) -> dict[str, Any]:
    """A congress in session: a sitting with an agenda item, six official delegates present."""
    congress_id = await make_congress(organizing_union="Liên đoàn Lao động tỉnh Hà Tĩnh")
    assembly = await make_assembly(congress_id)
    assembly["item"] = await add_agenda_item(
        congress_id,
        assembly["sitting"],
        AgendaItemIn(title="Thảo luận Báo cáo chính trị"),
        SYSTEM,
    )
    return assembly


async def file_document(congress_id: int, title: str, access: Access, release: bool) -> int:
    viewer = documents.Viewer("organizer", can_see_confidential=True)
    document_id = await documents.upload_file(
        congress_id,
        DocumentIn(title=title, category="draft_resolution", access=access),
        io.BytesIO(PNG_1PX),
        "anh.png",
        SYSTEM,
        viewer,
    )
    if release:
        await documents.release_document(congress_id, document_id, SYSTEM, viewer)
    return document_id


async def make_poll(hall: dict[str, Any], title: str, **fields: Any) -> int:
    data = PollIn(**{"kind": "motion", "title": title, "sitting_id": hall["sitting"], **fields})
    poll_id = await voting.create_poll(hall["congress"], data, SYSTEM)
    await voting.open_poll(hall["congress"], poll_id, SYSTEM)
    return poll_id


async def vote(hall: dict[str, Any], poll_id: int, choices: list[list[str]]) -> None:
    for delegate, chosen in zip(hall["officials"], choices, strict=False):
        ballot = BallotIn(choices=chosen, retry_key=secrets.token_hex(8))
        await voting.cast_ballot(hall["congress"], delegate, poll_id, ballot)


async def secrets_around(hall: dict[str, Any]) -> None:
    """Everything that must stay off the public page, the feeds and the socket."""
    congress = hall["congress"]
    await file_document(congress, SECRETS[0], "confidential", release=False)
    await file_document(congress, SECRETS[1], "delegates", release=True)
    await file_document(congress, SECRETS[2], "organizers", release=False)
    open_poll = await make_poll(hall, SECRETS[3])
    await vote(hall, open_poll, [["agree"]] * 4)
    assert await voting.checkpoint_poll(congress, open_poll)  # a turnout: 4 of 6
    closed = await make_poll(hall, SECRETS[4])
    await vote(hall, closed, [["disagree"]] * 5)
    await voting.close_poll(congress, closed, SYSTEM)


async def a_congress_day(hall: dict[str, Any]) -> dict[str, int]:
    """What the public may see: the item under way, a public paper, two announced results."""
    congress = hall["congress"]
    await set_current_item(congress, None, hall["item"], SYSTEM)
    document = await file_document(congress, TRICKY_TITLE, "public", release=True)
    motion = await make_poll(hall, "Thông qua chương trình Đại hội")
    await vote(hall, motion, [["agree"]] * 5 + [["disagree"]])
    await voting.close_poll(congress, motion, SYSTEM)
    await voting.publish_poll(congress, motion, SYSTEM)
    election = await make_poll(
        hall,
        "Bầu Ban Chấp hành",
        kind="election",
        seats=2,
        candidates=[
            CandidateIn(name="Nguyễn Văn An"),
            CandidateIn(name="Trần Thị Bình"),
            CandidateIn(name="Lê Văn Cường"),
        ],
    )
    await vote(hall, election, [["c1", "c2"]] * 4 + [["c1", "c3"]] * 2)
    await voting.close_poll(congress, election, SYSTEM)
    await voting.publish_poll(congress, election, SYSTEM)
    return {"document": document, "motion": motion, "election": election}


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


def assert_nothing_private(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    for word in ("eligible", "voted", "turnout", "receipt", "delegate_id", "Turnout"):
        assert word not in text


# --- stream links: the API and the console ---------------------------------------------------


async def test_the_secretariat_sets_and_removes_a_sitting_stream(
    hall: dict[str, Any], as_role: Callable[[str | None], Awaitable[Session]]
) -> None:
    congress, sitting = hall["congress"], hall["sitting"]
    secretariat = await as_role("secretariat")
    address = f"/api/congresses/{congress}/streams"
    url = f"https://www.youtube.com/live/{YOUTUBE_ID}"

    response = await secretariat.put(f"{address}/{sitting}", json={"url": url})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "sitting_id": sitting,
        "url": url,
        "kind": "youtube",
        "embed_url": f"https://www.youtube-nocookie.com/embed/{YOUTUBE_ID}",
        "public": True,
    }
    assert [s["kind"] for s in (await secretariat.get(address)).json()] == ["youtube"]

    refused = await secretariat.put(f"{address}/{sitting}", json={"url": "http://x.vn/a.m3u8"})
    assert refused.status_code == 422
    assert (refused.json()["code"], refused.json()["field"]) == ("stream_url_invalid", "url")
    unknown = await secretariat.put(f"{address}/{2**31 - 1}", json={"url": url})
    assert unknown.status_code == 404
    extra = await secretariat.put(f"{address}/{sitting}", json={"url": url, "kind": "hls"})
    assert extra.status_code == 400

    assert (await secretariat.delete(f"{address}/{sitting}")).status_code == 204
    assert (await secretariat.get(address)).json() == []
    kinds = [
        e.type for e in await events_of(congress, types=["StreamLinkSet", "StreamLinkRemoved"])
    ]
    assert kinds == ["StreamLinkSet", "StreamLinkRemoved"]

    presidium = await as_role("presidium")
    assert (await presidium.put(f"{address}/{sitting}", json={"url": url})).status_code == 403
    assert (await presidium.get(address)).status_code == 403


async def test_the_console_form_sets_a_stream(hall: dict[str, Any], admin: Session) -> None:
    congress, sitting = hall["congress"], hall["sitting"]
    page = f"/console/congresses/{congress}/streams"
    hls = "https://cdn.baohatinh.vn/live/dai-hoi.m3u8"
    response = await admin.submit(f"{page}/{sitting}", {"url": hls})
    assert response.status_code == 200  # after the redirect
    assert hls in response.text
    assert "Phiên chính thức" in response.text
    bad = await admin.submit(
        f"{page}/{sitting}", {"url": "https://example.vn/a.mp4", "public": "1"}
    )
    assert bad.status_code == 422
    assert 'data-code="stream_url_invalid"' in bad.text
    assert "https://example.vn/a.mp4" in bad.text  # kept in the form to correct it
    links = (await admin.get(f"/api/congresses/{congress}/streams")).json()
    assert [(s["kind"], s["public"]) for s in links] == [("hls", False)]


# --- the page --------------------------------------------------------------------------------


async def test_the_page_without_a_stream(hall: dict[str, Any], anonymous: Session) -> None:
    response = await anonymous.get(f"/live/{hall['congress']}")
    assert response.status_code == 200
    assert 'class="no-stream"' in response.text
    assert "<iframe" not in response.text
    assert "<video" not in response.text
    assert "Phiên chính thức" in response.text  # today's sitting, none set yet
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors *" in policy
    assert "script-src 'self';" in policy
    assert "x-frame-options" not in response.headers
    assert "set-cookie" not in response.headers  # a reader gets no cookie
    assert (await anonymous.get(f"/live/{2**31 - 1}")).status_code == 404


async def test_the_page_with_a_stream_and_the_item_under_way(
    hall: dict[str, Any], admin: Session, anonymous: Session
) -> None:
    congress, sitting = hall["congress"], hall["sitting"]
    await admin.put(
        f"/api/congresses/{congress}/streams/{sitting}",
        json={"url": f"https://youtu.be/{YOUTUBE_ID}"},
    )
    await set_current_item(congress, None, hall["item"], SYSTEM)
    for address in (f"/live/{congress}", f"/live/{congress}?embed=1"):
        response = await anonymous.get(address)
        assert response.status_code == 200
        assert f'src="https://www.youtube-nocookie.com/embed/{YOUTUBE_ID}"' in response.text
        assert "Thảo luận Báo cáo chính trị" in response.text
    assert 'class="live embed"' in response.text

    # A stream kept off the public page is not shown there.
    await admin.put(
        f"/api/congresses/{congress}/streams/{sitting}",
        json={"url": f"https://youtu.be/{YOUTUBE_ID}", "public": False},
    )
    response = await anonymous.get(f"/live/{congress}")
    assert YOUTUBE_ID not in response.text
    assert 'class="no-stream"' in response.text


# --- the timeline ----------------------------------------------------------------------------


async def test_the_timeline_as_json_and_atom(hall: dict[str, Any], anonymous: Session) -> None:
    congress = hall["congress"]
    made = await a_congress_day(hall)
    timeline = (await anonymous.get(f"/live/{congress}/timeline.json")).json()
    entries = timeline["entries"]
    assert [e["kind"] for e in entries] == ["result", "result", "document", "agenda_item"]
    election, motion, paper, item = entries
    assert election["result"]["elected"] == ["Nguyễn Văn An", "Trần Thị Bình"]
    assert election["summary"].endswith("Nguyễn Văn An, Trần Thị Bình")
    assert motion["result"]["passed"] is True
    assert {o["label"]: o["votes"] for o in motion["result"]["outcomes"]} == {
        "Tán thành": 5,
        "Không tán thành": 1,
        "Không ý kiến": 0,
    }
    assert paper["title"] == TRICKY_TITLE
    assert paper["url"] == f"/live/{congress}/documents/{made['document']}"
    assert item["title"] == "Thảo luận Báo cáo chính trị"
    assert item["summary"] == "Phiên chính thức"
    newer = await anonymous.get(f"/live/{congress}/timeline.json?after={paper['seq']}")
    assert [e["seq"] for e in newer.json()["entries"]] == [election["seq"], motion["seq"]]

    # The public paper opens for anyone.
    opened = await anonymous.get(paper["url"])
    assert opened.status_code == 200
    assert opened.content == PNG_1PX

    response = await anonymous.get(f"/live/{congress}/feed.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    assert b"&lt;&#208;" not in response.content  # UTF-8, not character references
    assert "&lt;Đại hội&gt; &amp;" in response.text
    feed = ET.fromstring(response.content)  # noqa: S314 - our own feed, as a reader parses it
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    atom_entries = feed.findall(f"{ATOM}entry")
    assert len(atom_entries) == 4
    ids = [e.findtext(f"{ATOM}id") for e in atom_entries]
    assert len(set(ids)) == 4
    titles = [e.findtext(f"{ATOM}title") for e in atom_entries]
    assert any(t and t.endswith(TRICKY_TITLE) for t in titles)
    links = [link.get("href") for e in atom_entries for link in e.findall(f"{ATOM}link")]
    assert links[2] == f"http://localhost:8000/live/{congress}/documents/{made['document']}"
    assert all(e.findtext(f"{ATOM}updated") for e in atom_entries)


async def test_nothing_private_reaches_the_page_or_the_feeds(
    hall: dict[str, Any], anonymous: Session
) -> None:
    congress = hall["congress"]
    await secrets_around(hall)
    await a_congress_day(hall)
    page = await anonymous.get(f"/live/{congress}")
    timeline = await anonymous.get(f"/live/{congress}/timeline.json")
    atom = await anonymous.get(f"/live/{congress}/feed.atom")
    for response in (page, timeline, atom):
        assert response.status_code == 200
        assert_nothing_private(response.text)
    assert "Thông qua chương trình Đại hội" in page.text  # the announced result is there
    assert not keys_of(timeline.json()) & {"voted", "eligible", "present", "receipts"}
    # A released paper taken back, or narrowed to confidential, leaves the public view.
    viewer = documents.Viewer("organizer", can_see_confidential=True)
    paper = await file_document(congress, "Tài liệu sẽ rút lại", "public", release=True)
    assert "Tài liệu sẽ rút lại" in (await anonymous.get(f"/live/{congress}")).text
    await documents.update_document(
        congress,
        paper,
        DocumentIn(title="Tài liệu sẽ rút lại", category="other", access="confidential"),
        SYSTEM,
        viewer,
    )
    for address in (f"/live/{congress}", f"/live/{congress}/timeline.json"):
        assert "Tài liệu sẽ rút lại" not in (await anonymous.get(address)).text
    assert (await anonymous.get(f"/live/{congress}/documents/{paper}")).status_code == 404


# --- the socket ------------------------------------------------------------------------------


async def test_the_page_follows_the_congress_over_its_socket(
    hall: dict[str, Any], role_tokens: dict[str, str]
) -> None:
    """Live through the real server. A turnout, a paper for delegates and a closed poll go by
    on the congress's channel first; the reader's socket gets none of them."""
    congress, sitting = hall["congress"], hall["sitting"]
    public_paper = await file_document(congress, TRICKY_TITLE, "public", release=False)
    delegates_paper = await file_document(congress, SECRETS[1], "delegates", release=False)
    await file_document(congress, SECRETS[0], "confidential", release=False)
    data = PollIn(kind="motion", title=SECRETS[4], sitting_id=sitting)
    secret_poll = await voting.create_poll(congress, data, SYSTEM)

    server = LiveServer(env={"CONGRESS_TURNOUT_INTERVAL": "0.2"})
    await server.start()
    try:
        feed = server.url.replace("http", "ws") + f"/live/{congress}/feed"
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(feed, origin="http://evil.example"):  # type: ignore[arg-type]
                pass
        async with (
            websockets.connect(feed, origin=server.url) as socket,  # type: ignore[arg-type]
            httpx.AsyncClient(
                base_url=server.url, cookies={"congress_session": role_tokens["admin"]}
            ) as http,
        ):
            await http.get("/login")
            headers = {"x-csrf-token": http.cookies[CSRF_COOKIE]}
            api = f"/api/congresses/{congress}"

            async def call(method: str, path: str, **kwargs: Any) -> None:
                response = await http.request(method, api + path, headers=headers, **kwargs)
                assert response.status_code < 300, response.text

            await call("POST", f"/polls/{secret_poll}/open")
            await vote(hall, secret_poll, [["agree"]] * 3)
            await asyncio.sleep(0.8)  # the server's ticker records the turnout meanwhile
            await call("POST", f"/documents/{delegates_paper}/release")
            await call("POST", f"/polls/{secret_poll}/close")
            await call("PUT", f"/streams/{sitting}", json={"url": f"https://youtu.be/{YOUTUBE_ID}"})
            first = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))
            assert first["now"]["stream"]["embed_url"].endswith(f"/embed/{YOUTUBE_ID}")
            assert "entry" not in first

            await call("POST", f"/documents/{public_paper}/release")
            paper = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))
            assert paper["entry"]["title"] == TRICKY_TITLE
            assert [d["title"] for d in paper["documents"]] == [TRICKY_TITLE]
            seen = [first, paper]
        turnout = await events_of(congress, types=["PollTurnout"])
        assert turnout, "the server's ticker recorded a turnout that the socket left out"
        for message in seen:
            assert_nothing_private(json.dumps(message, ensure_ascii=False))

        # A reader coming back gets what is on now, then what it missed.
        async with websockets.connect(
            feed + f"?after={first['seq']}",
            origin=server.url,  # type: ignore[arg-type]
        ) as socket:
            snapshot = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))
            missed = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))
        assert snapshot["now"]["sitting"] == "Phiên chính thức"
        assert missed["entry"]["title"] == TRICKY_TITLE
    finally:
        server.stop()

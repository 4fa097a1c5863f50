"""The admin's SR screen lists the files its chats carried and where the end user asked from.

Over HTTP as a manager: each file with its name, size, type, sender and time, a signed link
that opens it for the manager (and a thumbnail for images); the context as the widget sent
it. Everything the end user typed or named is shown as text, never as markup.
"""

from __future__ import annotations

import html
import re

from app.desk import attachments, chats
from app.models import SenderRole
from tests.support import files
from tests.support.accounts import sign_in, signed_in

CHROME_ON_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
                     "like Gecko) Chrome/131.0.0.0 Safari/537.36")
PDF = files.pdf()
HOSTILE_NAME = '<img src=x onerror="alert(1)">.png'
HOSTILE_TITLE = "<script>alert('title')</script> VPN help"
CONTEXT = {"page_url": "https://intranet.example.com/it/vpn?from=<b>menu</b>",
           "page_title": HOSTILE_TITLE, "referrer": "https://intranet.example.com/start",
           "language": "de-CH", "time_zone": "Europe/Zurich"}


def _chat_with_files(desk):
    """A chat in which the end user sent a screenshot (and left one upload unsent) and
    the agent sent a PDF."""
    chat = chats.request_chat(name="Erin <b>End-User</b>", email="erin@example.org",
                              queue="Network", question="VPN drops", context=CONTEXT,
                              user_agent=CHROME_ON_WINDOWS).chat
    chats.accept_chat(chat.id, desk.bob)
    visitor = attachments.Uploader(SenderRole.VISITOR)
    shot = attachments.upload(chat.id, visitor, HOSTILE_NAME, files.png(800, 500))
    attachments.upload(chat.id, visitor, "never-sent.txt", b"draft\n")
    guide = attachments.upload(chat.id, attachments.Uploader(SenderRole.AGENT, desk.bob.id),
                               "vpn-guide.pdf", PDF)
    for sender, body, client_id, sent in (
            (chats.Sender.visitor(chat), "this is what I see", "v1", shot),
            (chats.Sender.agent(desk.bob), "try this", "a1", guide)):
        [(message, created)] = chats.post_messages(
            [chats.Draft(chat.id, sender, body, client_id, [sent.public_id])])
        assert created
    return chat


def _page(client, sr_id: int) -> str:
    response = client.get(f"/admin/servicerequest/edit/?id={sr_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _part(page: str, element_id: str, end: str = "</section>") -> str:
    start = page.rfind("<", 0, page.index(f'id="{element_id}"'))
    return page[start:page.index(end, start)]


def _text(fragment: str) -> str:
    """What a person reads: tags removed, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def test_the_sr_screen_lists_the_sent_files_with_links_that_open_for_the_manager(
        app, client, desk):
    chat = _chat_with_files(desk)
    sign_in(client, "maria")
    page = _page(client, chat.sr_id)
    listed = _part(page, "files")
    rows = re.findall(r'<li class="file-row">(.*?)</li>', listed, re.S)
    assert len(rows) == 2  # the upload never sent is not the SR's
    shot, guide = rows
    assert _text(shot).startswith(HOSTILE_NAME)
    assert "800×500 px" in _text(shot) and "image/png" in _text(shot)
    assert "Sent by Erin <b>End-User</b> (end user)" in _text(shot)
    assert _text(guide).startswith("PDF vpn-guide.pdf")
    assert "application/pdf" in _text(guide) and "Sent by Bob" in _text(guide)
    assert "(agent)" in _text(guide)
    assert re.search(r"\d+(\.\d)? kB · application/pdf", _text(guide))
    assert "<time datetime=" in guide  # the local time, as every time in the admin

    # The thumbnail and the files open with the manager's session, through signed links.
    [thumbnail] = re.findall(r'<img src="([^"]+)"', shot)
    [original] = re.findall(r'<a class="file-name" href="([^"]+)"', shot)
    [document] = re.findall(r'<a class="file-name" href="([^"]+)"', guide)
    assert 'download' in guide and "<img" not in guide
    opened = client.get(html.unescape(thumbnail))
    assert opened.status_code == 200 and opened.mimetype == "image/webp"
    assert client.get(html.unescape(original)).data == files.png(800, 500)
    pdf = client.get(html.unescape(document))
    assert pdf.status_code == 200 and pdf.data == PDF
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    # The chat's transcript so far names each file where it was sent, with its link.
    transcript = _part(page, "transcripts")
    assert _text(transcript).count(HOSTILE_NAME) == 1 and "vpn-guide.pdf" in _text(transcript)
    assert html.unescape(document).split("/")[-1] in transcript
    # The link alone opens nothing: not for an agent of other queues, nor for nobody.
    alice = signed_in(app, "alice")  # Hardware and Software; the chat is Network's
    assert alice.get(html.unescape(document)).json["error"] == "forbidden"
    assert app.test_client().get(html.unescape(document)).json["error"] == "login_required"


def test_names_and_context_are_shown_as_text(client, desk):
    chat = _chat_with_files(desk)
    sign_in(client, "maria")
    page = _page(client, chat.sr_id)
    assert "<script>alert('title')" not in page and 'onerror="alert(1)"' not in page
    assert "&lt;img src=x onerror=" in page and "&lt;script&gt;" in page
    assert "<b>End-User</b>" not in page and "<b>menu</b>" not in page


def test_the_sr_screen_shows_where_the_end_user_asked_from(client, desk):
    chat = _chat_with_files(desk)
    sign_in(client, "maria")
    context = _part(_page(client, chat.sr_id), "end-user-context", "</dl>")
    assert _text(context) == (
        f"Browser Chrome 131 on Windows 10 Language de-CH Time zone Europe/Zurich "
        f"Page {HOSTILE_TITLE} Came from https://intranet.example.com/start")
    [link] = re.findall(r'<a class="context-page" href="([^"]+)"[^>]*rel="noopener noreferrer"',
                        context)
    assert html.unescape(link) == CONTEXT["page_url"]


def test_an_sr_without_chat_files_or_context_says_so(client, desk):
    chat = chats.request_chat(name="Finn", email="finn@example.org", queue="Network",
                              question="Printer offline").chat
    sign_in(client, "maria")
    page = _page(client, chat.sr_id)
    assert "No files were sent in this SR" in _text(_part(page, "files"))
    assert 'id="end-user-context"' not in page

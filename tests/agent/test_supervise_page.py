"""The supervision page and the links to it: managers only, live chats only."""

from __future__ import annotations

from app.desk import chats
from app.models import SenderRole
from tests.agent.conftest import new_chat
from tests.support.accounts import signed_in


def test_managers_reach_a_live_chat_from_the_dashboard_and_the_chat_list(app, desk):
    live = chats.accept_chat(new_chat("Software", "Excel crashes").chat.id, desk.alice)
    ended = chats.accept_chat(new_chat("Hardware", "Fan noise").chat.id, desk.alice)
    chats.close_chat(ended.id, by=SenderRole.AGENT, agent=desk.alice)
    maria = signed_in(app, "maria")
    watch = f'href="/supervise/{live.id}"'
    dashboard = maria.get("/admin/").get_data(as_text=True)
    assert watch in dashboard and f'href="/supervise/{ended.id}"' not in dashboard
    listing = maria.get("/admin/chat/").get_data(as_text=True)
    assert watch in listing and f'href="/supervise/{ended.id}"' not in listing
    page = maria.get(f"/supervise/{live.id}").get_data(as_text=True)
    assert "Watching · the end user is not told" in page and "Alice Agent" in page
    # Take over offers the queue's agents (Software: alice, bob).
    assert f'<option value="{desk.bob.id}">Bob Builder</option>' in page
    assert maria.get(f"/supervise/{ended.id}").status_code == 409


def test_agents_cannot_open_the_supervision_page(app, desk):
    live = chats.accept_chat(new_chat("Software").chat.id, desk.alice)
    assert signed_in(app, "alice").get(f"/supervise/{live.id}").status_code == 403
    assert signed_in(app, "bob").get(f"/supervise/{live.id}").status_code == 403


def test_the_admin_chat_record_shows_its_internal_notes(app, desk):
    from app.desk import notes

    chat = chats.accept_chat(new_chat("Software").chat.id, desk.alice)
    notes.write_note(chat.id, desk.alice, "Customer <b>escalated</b> twice", "n-1")
    notes.whisper(chat.id, desk.maria, "Offer a call back", "w-1")
    page = signed_in(app, "maria").get(f"/admin/chat/details/?id={chat.id}").get_data(
        as_text=True)
    notes_part = page[page.index('id="internal-notes"'):]
    assert "Customer &lt;b&gt;escalated&lt;/b&gt; twice" in notes_part
    assert "Whisper from Maria Manager to Alice Agent" in notes_part
    # The transcript part lists messages only.
    assert "escalated" not in page[page.index('id="transcript"'):page.index('id="internal-notes"')]

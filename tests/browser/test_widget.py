"""The end user's widget on a customer page (another origin), with a real agent on the desk.

Plays the seed's procedure with the agent in the real console (a second browser context):
request, place in the queue, agent joined, messages both ways with local time stamps, a reload mid-chat, closing by either side, rating and transcript request;
and the refusals: a page on an origin that is not allowed, a forged token, an oversized message.
Screenshots of the widget's states go to docs/screenshots/ when WIDGET_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import socketio
from playwright.sync_api import expect

from app.widget.demo_host import DemoHost
from tests.browser.conftest import login
from tests.browser.pages import Console, Widget
from tests.conftest import BACKENDS, seeded_database
from tests.widget.support import AgentClient, start_widget_desk

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# A busy CI machine runs a server, a demo site and two browsers at once: allow 10 s (not 5 s)
# for what a user waits to see.
expect.set_options(timeout=10_000)
TIMEZONE = "America/New_York"


@pytest.fixture(params=BACKENDS)
def widget_desk(request, tmp_path):
    """The main story runs on every configured backend; the shorter ones on SQLite."""
    desk = start_widget_desk(seeded_database(request.param, tmp_path), tmp_path)
    yield desk
    desk.site.stop()
    desk.server.stop()


@pytest.fixture
def shoot(tmp_path):
    """Save a screenshot of the widget's state (into docs/ when asked to refresh them)."""
    folder = SCREENSHOTS if os.environ.get("WIDGET_SCREENSHOTS") == "1" else tmp_path

    def save(page, name: str) -> None:
        page.wait_for_timeout(350)  # let the panel's entrance animation finish
        page.screenshot(path=str(folder / f"widget-{name}.png"))

    return save


def local_time(iso: str) -> str:
    """The time as the widget must show it in the browser's time zone (en: 12-hour clock)."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo(TIMEZONE))
    return moment.strftime("%I:%M %p")


def test_end_user_chats_with_an_agent_from_a_customer_page(widget_desk, new_context, shoot):
    desk = widget_desk
    first = desk.request_chat("Frank First", "frank@example.com", "Software", "VPN drops.")

    page = new_context(timezone_id=TIMEZONE).new_page()
    page.goto(desk.site.url)
    widget = Widget(page).open()
    expect(page.get_by_label("Your name")).to_be_focused()
    shoot(page, "form")

    # A bad e-mail address: the server's message shows next to the field; nothing is opened.
    widget.request_chat(email="erin-at-example")
    expect(page.locator("#sdc-email-err")).to_have_text("Please enter a valid e-mail address.")
    expect(page.get_by_label("E-mail")).to_have_attribute("aria-invalid", "true")
    assert desk.query("select count(*) from chat") == [(1,)]

    # The request: SR number, place in the queue, and nobody available yet (said honestly).
    page.get_by_label("E-mail").fill("erin@example.com")
    page.get_by_role("button", name="Start chat").click()
    sr_number = widget.sr_number()
    chat_id = widget.stored_chat()["chatId"]
    expect(widget.root.locator(".position")).to_have_text("You are number 2 in line.")
    expect(widget.root.locator(".agents")).to_contain_text(
        f"Your request {sr_number} stays open: wait here, or the desk will follow up by e-mail "
        "to erin@example.com")
    expect(widget.root).to_have_attribute("data-connection", "online")
    expect(widget.composer).to_be_focused()
    shoot(page, "waiting")

    # The agent, in the console, takes the first chat: the end user moves up, live.
    agent_page = new_context(timezone_id=TIMEZONE).new_page()
    login(agent_page, desk.server.url, "alice")
    agent_page.goto(desk.server.url + "/")
    console = Console(agent_page)
    expect(widget.root.locator(".agents")).to_have_text("1 agent is available.")  # told live
    expect(console.accept(first["chat_id"]).root).to_be_visible()
    expect(widget.root.locator(".position")).to_have_text("You are next in line.")
    # Let the console settle (it redraws its waiting list on queue events) before the next click.
    expect(agent_page.locator(".waiting-item")).to_have_count(1)

    chat = console.accept(chat_id)
    expect(chat.root).to_be_visible()
    expect(widget.root.locator(".log")).to_contain_text("Alice Agent has joined the chat.")
    greeting = widget.last_from_desk()
    expect(greeting.locator(".bubble")).to_have_text(
        "Hello, this is Alice Agent from the Software desk. How can I help you today?")
    expect(greeting.locator(".who")).to_have_text("Alice Agent")
    expect(widget.root.locator(".waiting-card")).to_be_hidden()
    agent_page.locator(f".chat-tab[data-chat-id='{chat_id}']").click()
    expect(chat.root.locator(".end-user-name")).to_have_text("Erin End-User")

    # End user → agent, with Enter: the agent sees the typing, then the message; delivery state.
    widget.composer.fill("Hi! It started after the Windows update.")
    expect(chat.typing).to_have_text("Erin End-User is typing…")
    mine = widget.send("Hi! It started after the Windows update.")
    expect(mine).to_have_attribute("data-state", "sent")
    expect(mine.locator(".delivery")).to_have_text("✓ Delivered")
    received = chat.message(int(mine.get_attribute("data-id")))
    expect(received.locator(".msg-body")).to_have_text("Hi! It started after the Windows update.")
    expect(received.locator(".msg-sender")).to_have_text("Erin End-User")
    sent_at = mine.locator("time").get_attribute("datetime")
    expect(mine.locator("time")).to_have_text(local_time(sent_at))
    expect(received.locator("time")).to_have_text(local_time(sent_at))

    # Agent → end user: typing indicator, then the message with name and local time.
    chat.composer.fill("Thanks Erin. Please sign out and in again <b>once</b>.")
    expect(widget.root.locator(".typing")).to_have_text("Alice Agent is typing…")
    chat.composer.press("Enter")
    answer = widget.last_from_desk()
    expect(answer.locator(".bubble")).to_have_text(
        "Thanks Erin. Please sign out and in again <b>once</b>.")
    expect(answer.locator(".who")).to_have_text("Alice Agent")
    expect(widget.root.locator(".typing")).to_be_hidden()
    answer_at = answer.locator("time").get_attribute("datetime")
    expect(answer.locator("time")).to_have_text(local_time(answer_at))
    assert widget.root.locator(".log b").count() == 0  # text, never HTML
    shoot(page, "chatting")

    # Reload mid-chat: the same conversation comes back, nothing lost, still connected.
    page.reload()
    expect(widget.root).to_have_attribute("data-connection", "online")
    expect(widget.bubbles()).to_have_text([
        "Outlook keeps asking for my password.",
        "Hello, this is Alice Agent from the Software desk. How can I help you today?",
        "Hi! It started after the Windows update.",
        "Thanks Erin. Please sign out and in again <b>once</b>.",
    ])
    expect(widget.root.locator(".title")).to_have_text("Alice Agent")
    expect(widget.root.locator(".subtitle-text")).to_have_text("Software desk")
    widget.composer.fill("Signed out and in: it works now!")
    page.get_by_label("Send").click()
    expect(chat.messages().last).to_have_text("Signed out and in: it works now!")

    # The agent ends the chat: the end user is told, rates it and asks for the transcript.
    chat.close()
    expect(widget.root.locator(".closed-text")).to_have_text("Alice Agent ended the chat.")
    expect(widget.composer).to_be_hidden()
    widget.rate(4, "Quick and friendly.")
    shoot(page, "closed")
    widget.send_rating()
    expect(widget.root.locator(".rate-form")).to_be_hidden()
    widget.email_transcript()
    expect(widget.root.locator(".transcript-done")).to_have_text(
        "The transcript is on its way to erin@example.com.")
    expect(page.get_by_role("button", name="E-mail me the transcript")).to_be_hidden()

    # After a reload the ended chat is still there to read, already rated; once minimized,
    # further page views of the site open no connection for it.
    page.reload()
    expect(widget.root.locator(".log .msg")).to_have_count(5)
    expect(widget.root.locator(".closed-text")).to_have_text("Alice Agent ended the chat.")
    expect(widget.root.locator(".rated")).to_be_visible()
    expect(widget.root.locator(".transcript-done")).to_be_visible()
    page.get_by_label("Minimize chat").click()
    page.reload()
    expect(page.get_by_role("button", name="Chat with the service desk")).to_be_visible()
    assert widget.root.get_attribute("data-connection") is None

    assert desk.query("select rating, rating_comment from service_request where number = :n",
                      n=sr_number) == [(4, "Quick and friendly.")]
    outbox = desk.query("select kind, to_address from mail_outbox where kind = 'transcript'")
    assert outbox == [("transcript", "erin@example.com")]


# --- one desk for the shorter stories below (each uses its own chat in the Network queue) --------

@pytest.fixture(scope="module")
def shared_desk(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("widget-desk")
    desk = start_widget_desk(seeded_database("sqlite", tmp_path), tmp_path)
    yield desk
    desk.site.stop()
    desk.server.stop()


def start_chat_in_widget(page, desk, name: str, question: str):
    page.goto(desk.site.url)
    widget = Widget(page).open().root
    Widget(page).request_chat(name=name, email=f"{name.split()[0].lower()}@example.com",
                 topic="VPN, Wi-Fi and network drives", question=question)
    expect(widget.locator(".sr-line")).to_be_visible()
    expect(widget).to_have_attribute("data-connection", "online")
    return widget, Widget(page).stored_chat()["chatId"]


def set_tab_hidden(page, hidden: bool) -> None:
    """What the browser does when the user switches tabs (headless tabs never hide)."""
    page.evaluate("""(hidden) => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
        Object.defineProperty(document, 'visibilityState', {configurable: true,
            get: () => hidden ? 'hidden' : 'visible'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""", hidden)


def test_end_user_ends_the_chat_with_the_keyboard_and_the_agent_is_told(shared_desk, new_context,
                                                                      shoot):
    desk = shared_desk
    page = new_context().new_page()
    page.goto(desk.site.url)
    launcher = page.get_by_role("button", name="Chat with the service desk")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Your name")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#service-desk-chat .panel")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")

    widget, chat_id = start_chat_in_widget(page, desk, "Kim Keyboard", "Wi-Fi is slow.")
    bob = AgentClient(desk.server.url, "bob")
    try:
        bob.accept(chat_id)
        expect(widget.locator(".log")).to_contain_text("Bob Builder has joined the chat.")

        # The end user looks at another tab: a new message rings and badges the page title.
        set_tab_hidden(page, True)
        bob.say(chat_id, "Which building are you in?")
        expect(page).to_have_title("(1) Northwind Traders · IT help")
        expect(widget).to_have_attribute("data-chimes", "1")
        set_tab_hidden(page, False)
        expect(page).to_have_title("Northwind Traders · IT help")

        # With the panel minimized, a new message shows as a preview and a badge on the launcher.
        page.get_by_label("Minimize chat").click()
        bob.say(chat_id, "Are you <i>still</i> there?")
        preview = widget.locator(".preview")
        expect(preview).to_be_visible()
        expect(preview.locator(".preview-body")).to_have_text("Are you <i>still</i> there?")
        expect(widget.locator(".badge")).to_have_text("1")
        shoot(page, "new-message")
        preview.click()
        expect(preview).to_be_hidden()
        expect(widget.locator(".badge")).to_be_hidden()
        expect(page.get_by_label("Write a message…")).to_be_focused()

        page.get_by_role("button", name="End chat").click()
        expect(page.get_by_role("button", name="Keep chatting")).to_be_visible()
        page.get_by_role("button", name="End chat").last.click()
        expect(widget.locator(".closed-text")).to_have_text("You ended the chat.")
        closed = bob.wait_for("chat_closed", lambda d: d["chat_id"] == chat_id)
        assert closed["closed_by"] == "VISITOR"
    finally:
        bob.close()
    assert desk.query("select status, closed_by from chat where id = :id", id=chat_id) == [
        ("CLOSED", "VISITOR")]
    # A new chat starts from a fresh form that remembers who the end user is.
    page.get_by_role("button", name="Start a new chat").click()
    expect(page.get_by_label("Your name")).to_have_value("Kim Keyboard")
    expect(page.get_by_label("How can we help?")).to_have_value("")


def test_oversized_message_is_stopped_in_the_widget_and_refused_by_the_server(
        shared_desk, new_context):
    desk = shared_desk
    page = new_context().new_page()
    widget, chat_id = start_chat_in_widget(page, desk, "Olga Oversize", "Network drive gone.")
    composer = page.get_by_label("Write a message…")
    composer.fill("x" * 4001)
    expect(widget.locator(".composer-error")).to_have_text(
        "Your message is too long: 4001 characters, at most 4000. Please shorten it or split it.")
    expect(page.get_by_label("Send")).to_be_disabled()
    composer.press("Enter")
    expect(composer).to_have_value("x" * 4001)  # kept for the user to shorten, not sent
    composer.fill("x" * 4000)
    expect(widget.locator(".composer-error")).to_have_text("")
    expect(page.get_by_label("Send")).to_be_enabled()
    assert desk.query("select count(*) from chat_message where chat_id = :id", id=chat_id) == [(1,)]

    # The server refuses it anyway, for a client that skips the widget's check.
    visitor = socketio.SimpleClient()
    visitor.connect(desk.server.url, namespace="/chat", transports=["websocket"],
                    auth={"visitor_token": Widget(page).stored_chat()["token"]}, wait_timeout=10)
    try:
        ack = visitor.call("send", {"chat_id": chat_id, "body": "y" * 4001, "client_id": "big"},
                           timeout=10)
    finally:
        visitor.disconnect()
    assert ack["ok"] is False and ack["error"] == "too_long"


def test_messages_written_while_offline_are_sent_once_when_back(shared_desk, new_context):
    desk = shared_desk
    context = new_context()
    page = context.new_page()
    widget, chat_id = start_chat_in_widget(page, desk, "Nina Network", "VPN keeps dropping.")
    context.set_offline(True)
    expect(widget).not_to_have_attribute("data-connection", "online")
    expect(widget.locator(".banner")).to_have_text(re.compile("offline|Reconnecting"))
    page.get_by_label("Write a message…").fill("Written on the train, without network.")
    page.keyboard.press("Enter")
    pending = widget.locator(".msg.mine").last
    expect(pending).to_have_attribute("data-state", "sending")
    context.set_offline(False)
    expect(widget).to_have_attribute("data-connection", "online")
    expect(pending).to_have_attribute("data-state", "sent")
    expect(widget.locator(".banner")).to_be_hidden()
    rows = desk.query("select body from chat_message where chat_id = :id order by id", id=chat_id)
    assert rows == [("VPN keeps dropping.",), ("Written on the train, without network.",)]

    # The page went away with two messages unacknowledged: one reached the server (its ack was
    # lost), one did not. After a reload each is stored and shown exactly once.
    token = Widget(page).stored_chat()["token"]
    visitor = socketio.SimpleClient()
    visitor.connect(desk.server.url, namespace="/chat", transports=["websocket"],
                    auth={"visitor_token": token}, wait_timeout=10)
    try:
        assert visitor.call("send", {"chat_id": chat_id, "body": "Did this arrive?",
                                     "client_id": "w-lost-ack"}, timeout=10)["ok"]
    finally:
        visitor.disconnect()
    page.evaluate("""([server]) => {
        const key = 'sdc-widget:' + server;
        const saved = JSON.parse(localStorage.getItem(key));
        saved.pending = [{client_id: 'w-lost-ack', body: 'Did this arrive?', tries: 1},
                         {client_id: 'w-never-sent', body: 'And this one?', tries: 1}];
        localStorage.setItem(key, JSON.stringify(saved));
    }""", [desk.server.url])
    page.reload()
    widget = page.locator("#service-desk-chat .sdc")
    expect(widget.locator('.msg[data-client-id="w-never-sent"]')).to_have_attribute(
        "data-state", "sent")
    expect(widget.locator(".log .msg .bubble")).to_have_text([
        "VPN keeps dropping.", "Written on the train, without network.", "Did this arrive?",
        "And this one?"])
    rows = desk.query("select client_id, count(*) from chat_message where chat_id = :id "
                      "and client_id like 'w-%' group by client_id order by client_id", id=chat_id)
    assert [r for r in rows if r[0] in ("w-lost-ack", "w-never-sent")] == [
        ("w-lost-ack", 1), ("w-never-sent", 1)]
    assert Widget(page).stored_chat()["pending"] == []


def test_widget_comes_back_after_a_server_restart(shared_desk, new_context):
    desk = shared_desk
    page = new_context().new_page()
    widget, chat_id = start_chat_in_widget(page, desk, "Rita Restart", "Mapped drive is gone.")
    desk.server.stop()
    expect(widget).not_to_have_attribute("data-connection", "online")
    expect(widget.locator(".banner")).to_have_text("Connection lost. Reconnecting…")
    page.get_by_label("Write a message…").fill("Drive S: to be exact.")
    page.keyboard.press("Enter")
    desk.server.start()
    expect(widget).to_have_attribute("data-connection", "online", timeout=20_000)
    expect(widget.locator(".msg.mine").last).to_have_attribute("data-state", "sent")
    expect(widget.locator(".log .msg .bubble")).to_have_text([
        "Mapped drive is gone.", "Drive S: to be exact."])
    assert desk.query("select body from chat_message where chat_id = :id order by id",
                      id=chat_id) == [("Mapped drive is gone.",), ("Drive S: to be exact.",)]


def test_expired_or_forged_token_starts_a_fresh_form_without_access(shared_desk, new_context):
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    desk = shared_desk
    old = desk.request_chat("Olaf Old", "olaf@example.com", "Network", "Secret question 42")
    key = desk.query("select visitor_key from chat where id = :id", id=old["chat_id"])[0][0]

    class LastWeek(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(datetime.now().timestamp()) - 7 * 86400

    expired = URLSafeTimedSerializer("live-test-secret", salt="visitor-token-v1",
                                     signer=LastWeek).dumps({"c": old["chat_id"], "k": key})
    page = new_context().new_page()
    page.goto(desk.site.url)
    for token, notice in ((expired, "Your previous chat has expired. Please start a new one."),
                          (old["visitor_token"] + "x",
                           "Your previous chat is no longer available. Please start a new one.")):
        page.evaluate("""([server, token, chatId]) => localStorage.setItem(
            'sdc-widget:' + server, JSON.stringify({token, chatId, sr: 'SR1', status: 'WAITING',
                                                    open: true, name: 'Olaf Old'}))""",
                      [desk.server.url, token, old["chat_id"]])
        page.reload()
        widget = page.locator("#service-desk-chat .sdc")
        expect(widget.locator(".form-error")).to_have_text(notice)
        expect(widget).to_have_attribute("data-view", "form")
        expect(page.get_by_label("Your name")).to_have_value("Olaf Old")
        assert "Secret question 42" not in widget.inner_text()
        assert "token" not in Widget(page).stored_chat()


def test_page_on_an_origin_that_is_not_allowed_cannot_open_a_chat(shared_desk, new_context):
    desk = shared_desk
    stranger = DemoHost(desk.server.url).start()  # another port: an origin nobody allowed
    try:
        before = desk.query("select count(*) from chat")
        page = new_context().new_page()
        page.goto(stranger.url)
        widget = Widget(page).open().root
        Widget(page).request_chat(name="Mallory", email="mallory@example.com",
                     topic="VPN, Wi-Fi and network drives", question="Let me in.")
        expect(widget.locator(".form-error")).to_have_text(
            "We could not reach the service desk. Please check your connection and try again.")
        assert desk.query("select count(*) from chat") == before
    finally:
        stranger.stop()
    # Nor can it use a stolen token over Socket.IO from that origin.
    token = desk.request_chat("Vera Victim", "vera@example.com", "Network", "Hi")["visitor_token"]
    thief = socketio.SimpleClient()
    with pytest.raises(socketio.exceptions.ConnectionError):
        thief.connect(desk.server.url, namespace="/chat", transports=["websocket"],
                      headers={"Origin": stranger.url}, auth={"visitor_token": token},
                      wait_timeout=5)


def test_widget_fills_a_phone_screen(shared_desk, new_context, shoot):
    page = new_context(viewport={"width": 390, "height": 780}, is_mobile=True,
                       has_touch=True, device_scale_factor=2).new_page()
    page.goto(shared_desk.site.url)
    Widget(page).open()
    panel = page.locator("#service-desk-chat .panel").bounding_box()
    assert (panel["x"], panel["y"], panel["width"], panel["height"]) == (0, 0, 390, 780)
    expect(page.get_by_role("button", name="Chat with the service desk")).to_be_hidden()
    shoot(page, "phone")
    Widget(page).request_chat(name="Pia Phone", email="pia@example.com",
                 topic="VPN, Wi-Fi and network drives", question="No Wi-Fi on floor 3.")
    widget = page.locator("#service-desk-chat .sdc")
    expect(widget.locator(".sr-line")).to_be_visible()
    page.get_by_label("Write a message…").fill("Since this morning, all of us.")
    page.get_by_label("Write a message…").press("Enter")
    expect(widget.locator(".msg.mine").last).to_have_attribute("data-state", "sent")
    composer = page.locator("#service-desk-chat .composer").bounding_box()
    assert composer["y"] + composer["height"] == pytest.approx(780, abs=1)  # at the bottom
    shoot(page, "phone-waiting")
    page.get_by_label("Minimize chat").click()
    expect(page.get_by_role("button", name="Chat with the service desk")).to_be_visible()


def test_settings_from_data_attributes_language_colour_and_single_queue(shared_desk, new_context):
    page = new_context().new_page()
    page.goto(shared_desk.site.url + "/?queue=Network&lang=de&color=%230f766e"
              "&greeting=Willkommen%20beim%20IT-Service")
    page.get_by_role("button", name="Chat mit dem Service Desk").click()
    widget = page.locator("#service-desk-chat .sdc")
    expect(widget.locator(".intro")).to_have_text("Willkommen beim IT-Service")
    expect(page.get_by_role("button", name="Chat starten")).to_be_visible()
    expect(widget.locator(".topic-field")).to_be_hidden()  # one queue: nothing to choose
    expect(widget.locator(".head")).to_have_css("background-color", "rgb(15, 118, 110)")
    page.get_by_role("button", name="Chat starten").click()
    expect(widget.locator("#sdc-name-err")).to_have_text("Bitte füllen Sie dieses Feld aus.")
    expect(page.get_by_label("Ihr Name")).to_be_focused()


def test_agent_joining_while_away_and_transfer_back_into_line(shared_desk, new_context):
    desk = shared_desk
    page = new_context().new_page()
    widget, chat_id = start_chat_in_widget(page, desk, "Tom Transfer", "Printer offline.")
    page.goto("about:blank")  # the end user is away when the agent joins
    bob = AgentClient(desk.server.url, "bob")
    try:
        bob.accept(chat_id)
        page.goto(desk.site.url)
        widget = page.locator("#service-desk-chat .sdc")
        expect(widget.locator(".title")).to_have_text("Bob Builder")
        expect(widget.locator(".log")).to_contain_text("Bob Builder has joined the chat.")
        expect(widget.locator(".waiting-card")).to_be_hidden()
        assert bob.call("transfer", {"chat_id": chat_id, "queue": "Software"})["ok"]
        expect(widget.locator(".log")).to_contain_text(
            "You have been transferred to the Software desk. An agent will be with you shortly.")
        expect(widget.locator(".waiting-card")).to_be_visible()
        expect(widget.locator(".position")).to_have_text(re.compile(r"You are (next|number \d+) in line\."))
        expect(widget.locator(".subtitle-text")).to_have_text("Waiting for an agent")
        expect(widget.locator(".title")).to_have_text("Service Desk")
    finally:
        bob.close()


def test_the_desks_own_lines_come_in_the_widgets_language(shared_desk, new_context):
    """A supervisor's join, a transfer and a hand-over are told in German in a German widget:
    those in the history when it comes back, and the one written while it is open."""
    desk = shared_desk
    page = new_context().new_page()
    _, chat_id = start_chat_in_widget(page, desk, "Gerd Gruber", "Das WLAN ist weg.")
    bob = AgentClient(desk.server.url, "bob")
    maria = AgentClient(desk.server.url, "maria")
    alice = AgentClient(desk.server.url, "alice")
    try:
        bob.accept(chat_id)
        assert maria.call("join", {"chat_id": chat_id})["ok"]
        assert bob.call("transfer", {"chat_id": chat_id, "queue": "Software"})["ok"]
        page.goto(desk.site.url + "/?lang=de")  # the same chat, now in a German page
        widget = page.locator("#service-desk-chat .sdc")
        log = widget.locator(".log")
        expect(log).to_contain_text("Maria Manager (Supervisor) ist dem Chat beigetreten.")
        expect(log).to_contain_text("Bob Builder hat den Chat an Software weitergeleitet.")
        alice.accept(chat_id)
        assert alice.call("transfer", {"chat_id": chat_id, "agent": "bob"})["ok"]
        expect(log).to_contain_text("Alice Agent hat den Chat an Bob Builder übergeben.")
        assert "joined the chat" not in log.inner_text()
    finally:
        for agent in (bob, maria, alice):
            agent.close()


def wait_until(check, timeout: float = 15.0):
    """Poll a database condition (bounded): True, or the test fails with what was seen."""
    deadline = time.monotonic() + timeout
    while True:
        seen = check()
        if seen is True or time.monotonic() > deadline:
            assert seen is True, seen
            return
        time.sleep(0.2)


def test_abandoned_idle_and_rate_limited_chats_are_explained(tmp_path, new_context):
    desk = start_widget_desk(seeded_database("sqlite", tmp_path), tmp_path,
                             CHAT_ABANDON_GRACE="1", CHAT_IDLE_TIMEOUT="2",
                             REALTIME_SWEEP_INTERVAL="0.5", RATELIMIT_ENABLED="true",
                             CHAT_REQUEST_RATE_LIMIT="2 per minute")
    try:
        # The end user leaves while waiting: the chat is abandoned, the SR stays open.
        page = new_context().new_page()
        widget, chat_id = start_chat_in_widget(page, desk, "Ida Idle", "Is the VPN down?")
        sr_number = Widget(page).stored_chat()["sr"]
        page.goto("about:blank")

        def abandoned():
            rows = desk.query("select status from chat where id = :id", id=chat_id)
            return rows == [("ABANDONED",)] or rows
        wait_until(abandoned)
        page.goto(desk.site.url)
        widget = page.locator("#service-desk-chat .sdc")
        expect(widget.locator(".closed-text")).to_have_text(
            f"The chat ended before an agent could join. Your request {sr_number} stays open "
            "and the desk will follow up by e-mail.")
        expect(widget.locator(".rate-form")).to_be_hidden()  # nobody to rate

        # A new chat that nobody writes in is closed by the desk, which says why.
        page.get_by_role("button", name="Start a new chat").click()
        page.get_by_label("Topic").select_option(label="VPN, Wi-Fi and network drives")
        page.get_by_label("How can we help?").fill("Is the VPN down? Still there?")
        page.get_by_role("button", name="Start chat").click()
        expect(widget).to_have_attribute("data-connection", "online")
        chat_id = Widget(page).stored_chat()["chatId"]
        bob = AgentClient(desk.server.url, "bob")
        try:
            bob.accept(chat_id)
            expect(widget.locator(".closed-text")).to_have_text(
                "Closed after 1 minute without messages.")
            expect(page.get_by_role("radio", name="5 of 5")).to_be_visible()
            expect(page.get_by_label("Write a message…")).to_be_hidden()
        finally:
            bob.close()
        assert desk.query("select status, closed_by from chat where id = :id", id=chat_id) == [
            ("CLOSED", "SYSTEM")]

        # A third request within the minute is over this installation's limit: said plainly.
        page.get_by_role("button", name="Start a new chat").click()
        page.get_by_label("How can we help?").fill("And the printer too.")
        page.get_by_role("button", name="Start chat").click()
        expect(widget.locator(".form-error")).to_have_text(
            "Too many chat requests from your network. Please wait a minute and try again.")
        assert desk.query("select count(*) from chat") == [(2,)]
    finally:
        desk.site.stop()
        desk.server.stop()


def test_two_tabs_of_the_site_follow_the_same_chat(shared_desk, new_context):
    desk = shared_desk
    context = new_context()
    other_tab = context.new_page()
    other_tab.goto(desk.site.url)
    Widget(other_tab).open()
    page = context.new_page()
    widget, chat_id = start_chat_in_widget(page, desk, "Tara Tabs", "Two tabs, one question.")
    other = other_tab.locator("#service-desk-chat .sdc")
    expect(other).to_have_attribute("data-view", "chat")
    expect(other).to_have_attribute("data-connection", "online")
    expect(other.locator(".sr-line")).to_have_text(widget.locator(".sr-line").inner_text())
    page.get_by_label("Write a message…").fill("Sent from the first tab.")
    page.keyboard.press("Enter")
    expect(other.locator(".log .msg .bubble")).to_have_text([
        "Two tabs, one question.", "Sent from the first tab."])
    # Closing the panel in the other tab keeps the chat (no old state written over it).
    other_tab.get_by_label("Minimize chat").click()
    page.reload()
    widget = page.locator("#service-desk-chat .sdc")
    expect(widget).to_have_attribute("data-view", "chat")
    expect(widget).to_have_attribute("data-connection", "online")
    assert Widget(page).stored_chat()["chatId"] == chat_id


def test_widget_works_on_a_site_with_a_strict_content_security_policy(shared_desk, new_context):
    """Only the chat server may run scripts or connect, and no inline style is allowed."""
    desk = shared_desk
    page = new_context().new_page()
    response = page.goto(desk.site.url + "/?csp=strict")
    assert "style-src 'none'" in response.headers["content-security-policy"]
    launcher = page.get_by_role("button", name="Chat with the service desk")
    expect(launcher).to_have_css("background-color", "rgb(47, 111, 237)")  # styled
    expect(launcher).to_have_css("position", "fixed")
    widget, chat_id = start_chat_in_widget(page, desk, "Sam Strict", "Locked-down intranet.")
    expect(widget.locator(".msg.mine .bubble")).to_have_text(["Locked-down intranet."])
    assert chat_id


def test_bare_tag_offers_every_chat_queue_of_the_desk(shared_desk, new_context):
    page = new_context().new_page()
    page.goto(shared_desk.site.url + "/?plain=1")
    Widget(page).open()
    expect(page.get_by_label("Topic").locator("option")).to_have_text(
        ["Hardware", "Network", "Software"])

"""Files and the end user's context in real Chromium: a screenshot pasted in the widget on
the demo customer page reaches the agent as a thumbnail that opens; the agent's PDF is
downloaded by the end user; the chat pane shows where he asks from, his earlier requests
and what solved it before."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app import create_app
from tests.browser.conftest import login
from tests.browser.pages import ChatFiles, Console, SRForm, Widget, paste_image
from tests.conftest import seeded_database
from tests.support import files
from tests.widget.support import start_widget_desk

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")
def desk_with_history(tmp_path_factory):
    """The demo desk with a past (resolved SRs, Erin's earlier requests), the customer site."""
    tmp = tmp_path_factory.mktemp("files-desk")
    url = seeded_database("sqlite", tmp)
    from app import demo_history
    from app.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        demo_history.seed_history()
        db.session.remove()
        db.engine.dispose()
    desk = start_widget_desk(url, tmp)
    yield desk
    desk.site.stop()
    desk.server.stop()


def shoot(page, name: str, tmp_path, *, full_page: bool = False) -> None:
    folder = SCREENSHOTS if os.environ.get("SCREENSHOTS") == "1" else tmp_path
    page.wait_for_timeout(400)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


def opened_type(page, thumbnail) -> str:
    """Click a thumbnail: the type of the original it opens in a new tab."""
    with page.expect_popup() as opened:
        thumbnail.click()
    original = opened.value
    original.wait_for_load_state()
    content_type = original.evaluate("document.contentType")
    original.close()
    return content_type


def test_screenshot_pdf_context_and_history_between_widget_and_console(
        desk_with_history, new_context, tmp_path):
    desk = desk_with_history
    end_user = new_context(locale="en-GB", timezone_id="Europe/Berlin",
                           viewport={"width": 1200, "height": 820}).new_page()
    end_user.goto(desk.site.url)
    widget = Widget(end_user).open()
    widget.request_chat(email="erin@example.org", topic="VPN, Wi-Fi and network drives",
                        question="My VPN disconnects every few minutes when I work from home")
    widget.sr_number()  # the chat is open
    chat_id = widget.stored_chat()["chatId"]

    agent = new_context(timezone_id="Europe/Berlin").new_page()
    login(agent, desk.server.url, "bob")  # Software and Network
    agent.goto(desk.server.url + "/")
    pane = Console(agent).accept(chat_id)
    side = ChatFiles(pane)
    # Where he asks from: browser and OS read by the server, the rest sent by the widget.
    expect(side.context_line).to_contain_text("HeadlessChrome")
    expect(side.context_line).to_contain_text("en-GB")
    expect(side.context_line).to_contain_text("Europe/Berlin")
    expect(side.context_line.locator(".ctx-page")).to_have_attribute(
        "href", desk.site.url + "/")
    # His earlier requests, marked as found by a typed (unverified) address.
    expect(side.earlier).to_contain_text("E-mail not verified")
    expect(side.earlier.locator(".earlier-item")).to_have_count(2)
    expect(side.earlier.locator(".earlier-item").first).to_contain_text(
        "Cannot open shared calendar")
    # Solved before: the most similar resolved request first; its answer goes to the composer.
    expect(side.solved_before.locator(".solved-item").first).to_contain_text(
        "VPN drops every few minutes")
    side.use_solution()
    expect(pane.composer).to_have_value(re.compile(r"^Update the VPN client to 5\.2"))
    pane.composer.fill("")

    # The end user pastes a screenshot and sends it without a caption.
    paste_image(end_user, widget.composer, files.png(text="VPN error 809"))
    expect(widget.root.locator(".tray-item[data-state='stored']")).to_have_count(1)
    widget.composer.press("Enter")
    expect(widget.root.locator(".msg.mine .file-image img")).to_have_count(1)
    expect(widget.root.locator(".msg.mine").last).to_have_attribute("data-id", re.compile(r"\d+"))
    # The agent sees its thumbnail and opens the original.
    thumbnail = side.thumbnails().last
    expect(thumbnail).to_be_visible()
    agent.wait_for_function("img => img.complete && img.naturalWidth > 0",
                            arg=thumbnail.element_handle())
    assert thumbnail.get_attribute("alt").startswith("screenshot-")
    shoot(agent, "console-chat-files", tmp_path)
    assert opened_type(agent, thumbnail) == "image/png"

    # The agent sends a PDF with a caption; the end user downloads it.
    guide = files.pdf("VPN setup guide")
    side.attach("vpn-setup-guide.pdf", "application/pdf", guide)
    pane.composer.fill("Here is the setup guide, see page 2.")
    pane.composer.press("Enter")
    chip = widget.root.locator(".msg.theirs .file-chip").last
    expect(chip).to_contain_text("vpn-setup-guide.pdf")
    expect(widget.last_from_desk().locator(".bubble")).to_have_text(
        "Here is the setup guide, see page 2.")
    shoot(end_user, "widget-files", tmp_path)
    with end_user.expect_download() as downloaded:
        chip.click()
    assert downloaded.value.suggested_filename == "vpn-setup-guide.pdf"
    assert Path(downloaded.value.path()).read_bytes() == guide
    # Both files belong to the SR now: its form beside the chat lists them as they are sent.
    form = pane.sr_form()
    expect(form.files).to_have_count(2)
    expect(form.files.first).to_contain_text("(end user)")
    expect(form.file("vpn-setup-guide.pdf")).to_contain_text("application/pdf")
    expect(form.file("vpn-setup-guide.pdf")).to_contain_text("(agent)")
    expect(form.context).to_contain_text("Europe/Berlin")


def _desk_app(database_url: str):
    return create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)


def _send_files(app, chat_id: int, *sent: tuple[str, str, bytes]) -> None:
    """Each (side, name, bytes) uploaded and sent in a message of its own, as the widget and
    the console do (side: "end user" or "bob")."""
    from app.desk import attachments, chats
    from app.extensions import db
    from app.models import Chat, SenderRole, User

    with app.app_context():
        chat = db.session.get(Chat, chat_id)
        bob = db.session.scalars(db.select(User).where(User.username == "bob")).one()
        for number, (side, name, data) in enumerate(sent):
            if side == "bob":
                uploader, sender = (attachments.Uploader(SenderRole.AGENT, bob.id),
                                    chats.Sender.agent(bob))
            else:
                uploader, sender = (attachments.Uploader(SenderRole.VISITOR),
                                    chats.Sender.visitor(chat))
            stored = attachments.upload(chat.id, uploader, name, data)
            [(_, created)] = chats.post_messages([chats.Draft(
                chat.id, sender, "", f"{side}-{name}-{number}", [stored.public_id])])
            assert created
        db.session.remove()


def _printer_chat(app) -> tuple[int, str]:
    """A chat of Network's, asked from the intranet's printer page, accepted by bob."""
    from app.desk import chats
    from app.extensions import db
    from app.models import User

    with app.app_context():
        chat = chats.request_chat(
            name="Finn Fischer", email="finn@example.org", queue="Network",
            question="The printer on floor 3 prints blank pages", context=CONTEXT,
            user_agent=CHROME_ON_WINDOWS).chat
        bob = db.session.scalars(db.select(User).where(User.username == "bob")).one()
        chats.accept_chat(chat.id, bob)
        found = chat.id, chat.service_request.number
        db.session.remove()
    return found


CHROME_ON_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
                     "like Gecko) Chrome/131.0.0.0 Safari/537.36")
HOSTILE_NAME = '<img src=x onerror="document.title=1">.png'
CONTEXT = {"page_url": "https://intranet.example.com/printers",
           "page_title": "Printers & scanners · IT help",
           "referrer": "https://intranet.example.com/",
           "language": "de-CH", "time_zone": "Europe/Zurich"}


def test_the_sr_page_lists_its_files_and_where_the_end_user_asked_from(
        desk_with_history, new_context, tmp_path):
    app = _desk_app(desk_with_history.database_url)
    chat_id, number = _printer_chat(app)
    guide = files.pdf("Printer driver")
    _send_files(app, chat_id, ("end user", "printer-display.jpg", files.jpeg_with_gps()),
                ("bob", "printer-driver.pdf", guide))
    page = new_context(timezone_id="Europe/Zurich").new_page()
    login(page, desk_with_history.server.url, "bob")
    page.goto(f"{desk_with_history.server.url}/sr/{number}")
    form = SRForm.on_page(page)
    expect(form.files).to_have_count(2)
    photo, driver = form.files.first, form.files.last
    expect(photo.locator(".file-name")).to_have_text("printer-display.jpg")
    expect(photo).to_contain_text("image/jpeg")
    expect(photo).to_contain_text("Finn Fischer (end user)")
    expect(driver.locator(".file-name")).to_have_text("printer-driver.pdf")
    expect(driver).to_contain_text("kB · application/pdf")
    expect(driver).to_contain_text("Bob Builder (agent)")
    thumbnail = photo.locator(".sr-file-thumb img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=thumbnail.element_handle())
    # Where the end user asked from, compactly, beside the SR's facts; his text as text.
    expect(form.context.locator(".ctx-browser")).to_have_text("Chrome 131 on Windows 10")
    expect(form.context.locator(".ctx-language")).to_have_text("de-CH")
    expect(form.context.locator(".ctx-zone")).to_contain_text("Europe/Zurich ·")
    expect(form.context.locator(".ctx-page")).to_have_text(CONTEXT["page_title"])
    expect(form.context.locator(".ctx-page")).to_have_attribute("href", CONTEXT["page_url"])
    shoot(page, "sr-form-files", tmp_path)
    # The photo opens; the PDF downloads.
    assert opened_type(page, thumbnail) == "image/jpeg"
    with page.expect_download() as downloaded:
        driver.locator(".file-name").click()
    assert downloaded.value.suggested_filename == "printer-driver.pdf"
    assert Path(downloaded.value.path()).read_bytes() == guide
    # A file named like markup is listed by that name; nothing in it renders or runs.
    _send_files(app, chat_id, ("end user", HOSTILE_NAME, files.png()))
    page.reload()
    expect(form.files).to_have_count(3)
    expect(form.files.last.locator(".file-name")).to_have_text(HOSTILE_NAME)
    assert page.locator("img[src=x]").count() == 0 and page.title() != "1"


def test_the_admin_sr_screen_shows_the_files_and_the_context(
        desk_with_history, new_context, tmp_path):
    app = _desk_app(desk_with_history.database_url)
    chat_id, number = _printer_chat(app)
    _send_files(app, chat_id, ("end user", "printer-display.jpg", files.jpeg_with_gps()),
                ("end user", "error-page.png", files.png(text="Paper jam in tray 2")),
                ("bob", "printer-driver.pdf", files.pdf("Printer driver")))
    page = new_context(timezone_id="Europe/Zurich").new_page()
    login(page, desk_with_history.server.url, "maria")
    page.goto(f"{desk_with_history.server.url}/admin/servicerequest/?search={number}")
    page.locator(".sr-number", has_text=number).first.click()
    listed = page.locator("#files .file-row")
    expect(listed).to_have_count(3)
    # The thumbnails load under the admin's strict content policy.
    for image in page.locator("#files .file-thumb img").element_handles():
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image)
    expect(listed.last).to_contain_text("Bob Builder (agent)")
    expect(page.locator("#end-user-context")).to_contain_text("Chrome 131 on Windows 10")
    expect(page.locator("#end-user-context .context-page")).to_have_text(CONTEXT["page_title"])
    shoot(page, "admin-sr-files", tmp_path, full_page=True)
    with page.expect_download() as downloaded:
        listed.last.locator(".file-name").click()
    assert downloaded.value.suggested_filename == "printer-driver.pdf"

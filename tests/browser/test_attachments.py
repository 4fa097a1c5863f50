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
from tests.browser.pages import ChatFiles, Console, Widget, paste_image
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


def shoot(page, name: str, tmp_path) -> None:
    folder = SCREENSHOTS if os.environ.get("SCREENSHOTS") == "1" else tmp_path
    page.wait_for_timeout(400)
    page.screenshot(path=str(folder / f"{name}.png"))


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
    with agent.expect_popup() as opened:
        thumbnail.click()
    original = opened.value
    original.wait_for_load_state()
    assert original.evaluate("document.contentType") == "image/png"
    original.close()

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

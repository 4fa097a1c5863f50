"""The console's waiting list while chats come and go: the item an agent is about to accept
stays the element under his pointer, so a click is never lost to a redraw."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.pages import Console, console_page

expect.set_options(timeout=15_000)


def test_a_waiting_item_keeps_its_element_while_other_chats_arrive(widget_desk, new_context):
    desk = widget_desk
    first = desk.request_chat("Frank First", "frank@example.com", "Software", "VPN drops.")
    page = console_page(new_context, desk.server.url, "alice")
    console = Console(page)
    item = console.waiting(first["chat_id"])
    expect(item).to_be_visible()
    page.evaluate("(id) => { window.__item = document.querySelector("
                  "`.waiting-item[data-chat-id='${id}']`); }", first["chat_id"])

    # Another chat arrives: the list is drawn again, with both.
    second = desk.request_chat("Sam Second", "sam@example.com", "Software", "Mail is down.")
    expect(page.locator(".waiting-item")).to_have_count(2)
    expect(console.waiting(second["chat_id"])).to_be_visible()
    assert page.evaluate("(id) => window.__item.isConnected && window.__item === "
                         "document.querySelector(`.waiting-item[data-chat-id='${id}']`)",
                         first["chat_id"])

    # The kept element still accepts its chat.
    expect(console.accept(first["chat_id"]).root).to_be_visible()
    expect(page.locator(".waiting-item")).to_have_count(1)

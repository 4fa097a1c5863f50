"""Page helpers for the browser tests: what a person does on a screen, in the desk's words.

A test then reads like the procedure ("accept the chat, send a reply, close it, resolve the
SR") while the selectors live here, once.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect


class Console:
    """The agent console (`/`, `/my-work`, `/sr/<n>`): Welcome bar, waiting list, chat tabs."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.indicator = page.locator("#chat-queue-indicator")

    def expect_queue(self, count: int, state: str | None = None) -> None:
        expect(self.indicator).to_have_attribute("data-count", str(count))
        if state:
            expect(self.indicator).to_have_attribute("data-state", state)

    def open_waiting_list(self) -> None:
        """Click the chat-queue indicator: the chat window opens on the waiting chats."""
        self.indicator.click()
        self.page.wait_for_url(re.compile(r"/#waiting$"))

    def waiting(self, chat_id: int) -> Locator:
        return self.page.locator(f".waiting-item[data-chat-id='{chat_id}']")

    def accept(self, chat_id: int) -> ChatPane:
        self.waiting(chat_id).locator(".accept-button").click()
        return self.chat(chat_id)

    def chat(self, chat_id: int) -> ChatPane:
        return ChatPane(self.page, self.page.locator(f".chat-pane[data-chat-id='{chat_id}']"))


class ChatPane:
    """One chat's pane: header (SR link, end user), messages, composer, its SR form."""

    def __init__(self, page: Page, root: Locator) -> None:
        self.page = page
        self.root = root
        self.sr_link = root.locator(".sr-link")
        self.composer = root.locator("textarea[name=body]")
        self.typing = root.locator(".typing-indicator")

    def expect_end_user(self, name: str, phone: str, email: str) -> None:
        expect(self.root.locator(".end-user-name")).to_have_text(name)
        expect(self.root.locator(".end-user-phone")).to_have_text(phone)
        expect(self.root.locator(".end-user-email")).to_have_text(email)

    def message(self, message_id: int) -> Locator:
        return self.root.locator(f".msg[data-id='{message_id}']")

    def messages(self) -> Locator:
        return self.root.locator(".msg-body")

    def send(self, text: str) -> None:
        """Type a reply and press Enter."""
        self.composer.fill(text)
        self.composer.press("Enter")

    def close(self, *, expect_unsaved: bool = False) -> None:
        """End the chat, confirming in the dialog."""
        self.root.locator(".close-button").click()
        dialog = self.page.locator("#close-dialog")
        expect(dialog).to_be_visible()
        unsaved = dialog.locator(".close-unsaved")
        expect(unsaved).to_be_visible() if expect_unsaved else expect(unsaved).to_be_hidden()
        dialog.locator("button[value=confirm]").click()

    def sr_form(self) -> SRForm:
        return SRForm(self.root.locator(".sr-panel"))


class SRForm:
    """The SR form, beside a chat or on its own page (`#sr-form-root`)."""

    def __init__(self, root: Locator) -> None:
        self.root = root
        self.status = root.locator("select[name=status]")
        self.badge = root.locator(".status-badge")
        self.files = root.locator(".sr-files .sr-file")  # the files its chats carried
        self.context = root.locator(".sr-context")  # where the end user asked from

    @classmethod
    def on_page(cls, page: Page) -> SRForm:
        return cls(page.locator("#sr-form-root"))

    def status_choices(self) -> list[str]:
        return self.status.locator("option").evaluate_all("os => os.map(o => o.value)")

    def choose_status(self, status: str, *, other_group: str | None = None) -> None:
        """Pick a status; for QUEUED to another group, the group too."""
        self.status.select_option(status)
        if other_group:
            queue_to = self.root.locator(".queue-to")
            expect(queue_to).to_be_visible()
            queue_to.locator("input[value=other]").check()
            self.root.locator("select[name=other_group]").select_option(label=other_group)

    def set_ranks(self, *, priority: str | None = None, impact: str | None = None) -> None:
        if priority:
            self.root.locator("select[name=reported_priority]").select_option(priority)
        if impact:
            self.root.locator("select[name=impact]").select_option(impact)

    def pick(self, name: str, search: str, label: str) -> None:
        """Search a CI or asset picker and choose the entry with this label."""
        field = self.root.locator(f"input[name={name}]")
        field.fill(search)
        self.root.locator(f"[data-picker={name}] li[role=option]", has_text=label).click()
        expect(field).to_have_value(re.compile(re.escape(label)))

    def write_solution(self, text: str) -> None:
        self.root.locator("textarea[name=solution]").fill(text)

    def file(self, name: str) -> Locator:
        return self.files.filter(has_text=name)

    def save(self) -> None:
        self.root.locator(".save-button").click()
        expect(self.root.locator(".save-state")).to_have_text("All changes saved")

    def add_work_log(self, summary: str, details: str) -> None:
        self.root.locator("input[name=worklog_summary]").fill(summary)
        self.root.locator("textarea[name=worklog_details]").fill(details)
        self.root.locator(".add-log-button").click()
        expect(self.root.locator(".work-log-list")).to_contain_text(summary)


class Widget:
    """The end user's chat widget on a customer page (inside its shadow root)."""

    def __init__(self, page: Page) -> None:
        self.page = page

    @property
    def root(self) -> Locator:
        return self.page.locator("#service-desk-chat .sdc")

    @property
    def composer(self) -> Locator:
        return self.page.get_by_label("Write a message…")

    def open(self) -> Widget:
        """Click the launcher (unless another tab of the site left the widget open)."""
        launcher = self.page.get_by_role("button", name="Chat with the service desk")
        if launcher.get_attribute("aria-expanded") != "true":
            launcher.click()
        return self

    def request_chat(self, *, name: str = "Erin End-User", email: str = "erin@example.com",
                     phone: str = "", topic: str = "Applications and accounts",
                     question: str = "Outlook keeps asking for my password.") -> None:
        """Fill the pre-chat form and press Start chat."""
        self.page.get_by_label("Your name").fill(name)
        self.page.get_by_label("E-mail").fill(email)
        self.page.get_by_label("Phone").fill(phone)
        self.page.get_by_label("Topic").select_option(label=topic)
        self.page.get_by_label("How can we help?").fill(question)
        self.page.get_by_role("button", name="Start chat").click()

    def sr_number(self) -> str:
        line = self.root.locator(".sr-line")
        expect(line).to_have_text(re.compile(r"Your request SR\d+ is open\."))
        return re.search(r"SR\d+", line.inner_text()).group(0)

    def stored_chat(self) -> dict:
        """What the widget keeps in the site's localStorage to come back to its chat."""
        return self.page.evaluate("""() => {
            const key = Object.keys(localStorage).find(k => k.startsWith('sdc-widget:'));
            return key ? JSON.parse(localStorage.getItem(key)) : {};
        }""")

    def send(self, text: str) -> Locator:
        """Type a message and press Enter; the end user's own message as shown."""
        self.composer.fill(text)
        self.composer.press("Enter")
        return self.root.locator(".msg.mine").last

    def last_from_desk(self) -> Locator:
        return self.root.locator(".msg.theirs").last

    def bubbles(self) -> Locator:
        return self.root.locator(".log .msg .bubble")

    def rate(self, stars: int, comment: str) -> None:
        self.page.get_by_role("radio", name=f"{stars} of 5").click()
        self.page.get_by_placeholder("Anything you'd like to add?").fill(comment)

    def send_rating(self) -> None:
        self.page.get_by_role("button", name="Send rating").click()
        expect(self.root.locator(".rated")).to_have_text("Thank you for your feedback!")

    def email_transcript(self) -> None:
        self.page.get_by_role("button", name="E-mail me the transcript").click()
        expect(self.root.locator(".transcript-done")).to_be_visible()


class ChatFiles:
    """Files and the end user's context in an agent's chat pane."""

    def __init__(self, pane: ChatPane) -> None:
        self.pane = pane
        self.root = pane.root
        self.context_line = self.root.locator(".context-line")
        self.earlier = self.root.locator(".side-card.earlier")
        self.solved_before = self.root.locator(".side-card.solved-before")

    def attach(self, name: str, mime_type: str, data: bytes) -> None:
        """Choose a file with the attach button; wait until it is stored."""
        self.root.locator(".file-input").set_input_files(
            {"name": name, "mimeType": mime_type, "buffer": data})
        expect(self.root.locator(".tray-item[data-state='stored']")).to_have_count(1)

    def thumbnails(self) -> Locator:
        return self.root.locator(".msg .msg-image img")

    def use_solution(self, number: int = 0) -> None:
        self.solved_before.locator(".use-solution").nth(number).click()


def paste_image(page: Page, target: Locator, png: bytes, name: str = "image.png") -> None:
    """Paste an image into a text field as the clipboard does with a screenshot."""
    target.evaluate("""(el, [bytes, name]) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], name, {type: 'image/png'}));
        el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
                                                       cancelable: true}));
    }""", [list(png), name])


def end_user_asks(new_context, site_url: str, *, name: str, email: str, topic: str,
                  question: str) -> tuple[Widget, int, list[str]]:
    """An end user on the customer page starts a chat in the widget: the widget, the chat's
    id, and every WebSocket frame the widget's page receives (as text), recorded from the
    start."""
    page = new_context(viewport={"width": 1100, "height": 800}).new_page()
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, str) else payload.decode(errors="replace"))))
    page.goto(site_url)
    widget = Widget(page).open()
    widget.request_chat(name=name, email=email, topic=topic, question=question)
    widget.sr_number()
    return widget, widget.stored_chat()["chatId"], frames


def console_page(new_context, server_url: str, username: str) -> Page:
    """An agent (or manager) signed in, on his Agent Chat window."""
    from tests.browser.conftest import login

    page = new_context(viewport={"width": 1360, "height": 860}).new_page()
    login(page, server_url, username)
    page.goto(server_url + "/")
    return page

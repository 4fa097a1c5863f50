"""The end user asks for the transcript: the whole chat, in order, with times and senders."""

from __future__ import annotations

import re

from app.desk import chats
from app.mail import sender as mail_sender
from app.models import SenderRole
from tests.mail.support import chat_from, outbox


def test_a_transcript_request_delivers_the_whole_chat_in_order(desk, smtp):
    chat = chat_from(desk, name="Zoë O'Neil", question="The printer on floor 2 jams")
    visitor = chats.Sender.visitor(chat)
    agent = chats.Sender.agent(desk.alice)
    said = [
        (visitor, "It happens with every print job.\nEven single pages."),
        (agent, "Which tray do you use?"),
        (visitor, "Tray 2. <script>alert('x')</script>"),
        (agent, "I have reset the tray sensor; please try again."),
        (visitor, "Works now, thank you!"),
    ]
    for number, (sender, body) in enumerate(said):
        chats.post_message(chat.id, sender, body, f"c{number}")
    chats.close_chat(chat.id, by=SenderRole.AGENT, agent=desk.alice)
    sr = chat.service_request

    chats.request_transcript(chat.id)
    [row] = outbox()
    assert row.kind == "transcript" and row.sr_id == sr.id
    assert mail_sender.send_due().sent == 1
    [mail] = smtp.received
    assert mail.rcpt_tos == ["zoe@example.com"]
    assert mail.message["Subject"] == (
        f"[{sr.number}] Transcript of your chat: The printer on floor 2 jams")
    assert mail.message["To"].addresses[0].display_name == "Zoë O'Neil"

    stored = chats.history(chat.id)
    bodies = [message["body"] for message in stored]
    assert bodies[0] == "The printer on floor 2 jams"  # the question opens the chat
    assert bodies[-5:] == [body for _sender, body in said]

    text = mail.part("plain")
    positions = [text.index(body.splitlines()[0]) for body in bodies]
    assert positions == sorted(positions)  # every message, in the order it was sent
    assert "    Even single pages." in text  # a multi-line message stays readable
    for message in stored:
        stamp = message["sent_at"][:19].replace("T", " ")
        assert f"[{stamp}] {message['sender']['name']}" in text
    assert text.count("(service desk):") == sum(
        1 for message in stored if message["sender"]["role"] == "AGENT")

    html = mail.part("html")
    html_positions = [html.index(body.splitlines()[0].replace("'", "&#39;")
                                 .replace("<", "&lt;").replace(">", "&gt;"))
                      for body in bodies]
    assert html_positions == sorted(html_positions)
    assert "<script>" not in html
    assert "Tray 2. &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert len(re.findall(r"<tr>", html)) >= len(stored)

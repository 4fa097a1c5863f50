"""The end user asks for the transcript: the whole chat, in order, with times and senders."""

from __future__ import annotations

import re

from app.desk import chats
from app.extensions import db
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


def test_the_transcript_names_each_file_with_a_link_the_end_user_can_open(app, desk, smtp):
    from app.desk import attachments
    from tests.support import files

    app.config["PUBLIC_BASE_URL"] = "https://desk.example.com"
    chat = chat_from(desk, name="Erin", question="The VPN client shows an error")
    shot = attachments.upload(chat.id, attachments.Uploader(SenderRole.VISITOR),
                              "vpn-error.png", files.png())
    chats.post_messages([chats.Draft(chat.id, chats.Sender.visitor(chat), "See this",
                                     "c1", [shot.public_id])])
    chats.close_chat(chat.id, by=SenderRole.VISITOR)
    transcript = chat.service_request.work_log[-1].details
    assert "See this [file: vpn-error.png," in transcript  # on the SR too

    chats.request_transcript(chat.id)
    assert mail_sender.send_due().sent == 1
    [mail] = smtp.received
    text, html = mail.part("plain"), mail.part("html")
    [link] = re.findall(r"File: vpn-error\.png \([^)]*\) (\S+)", text)
    assert link.startswith("https://desk.example.com/api/attachments/mail/")
    assert f'href="{link}"' in html and "The links to files work for 30 days" in text
    # The link opens the file from a mailbox, with no token and no session.
    opened = app.test_client().get(link.removeprefix("https://desk.example.com"))
    assert opened.status_code == 200 and opened.data == files.png()
    assert opened.headers["X-Content-Type-Options"] == "nosniff"
    # A changed character, or a renewed visitor key, and it opens nothing.
    path = link.removeprefix("https://desk.example.com")
    token = path.split("/")[4]
    changed = token[:5] + ("B" if token[5] != "B" else "C") + token[6:]
    assert app.test_client().get(path.replace(token, changed)).status_code == 404
    chat.visitor_key = "renewed"
    db.session.commit()
    assert app.test_client().get(path).status_code == 404

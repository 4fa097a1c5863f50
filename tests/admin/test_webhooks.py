"""Managers register webhooks and watch their deliveries in the admin."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.desk import chats
from app.extensions import db
from app.integration import webhooks
from app.models import OutboxStatus, Webhook, WebhookDelivery
from tests.integration.conftest import SECRET
from tests.integration.support import send
from tests.support.accounts import sign_in


def _webhooks() -> list[Webhook]:
    db.session.expire_all()
    return list(db.session.scalars(select(Webhook).order_by(Webhook.id)))


def test_a_manager_registers_a_webhook_with_chosen_events(manager, receiver):
    reply = manager.post("/admin/webhook/new/", data={
        "url": receiver.url, "new_secret": SECRET, "chosen_events": ["chat.closed",
                                                                     "chat.requested"],
        "description": "CRM", "is_enabled": "y"}, follow_redirects=True)
    assert reply.status_code == 200
    [webhook] = _webhooks()
    assert webhook.url == receiver.url and webhook.secret == SECRET
    assert webhook.events == "chat.requested,chat.closed" and webhook.is_enabled
    listing = manager.get("/admin/webhook/").get_data(as_text=True)
    assert receiver.url in listing and SECRET not in listing


def test_bad_urls_and_short_secrets_are_refused_with_the_reason(manager, app):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    reply = manager.post("/admin/webhook/new/", data={
        "url": "http://127.0.0.1:9/hook", "new_secret": SECRET}, follow_redirects=True)
    assert "public addresses only" in reply.get_data(as_text=True)
    reply = manager.post("/admin/webhook/new/", data={
        "url": "ftp://example.com/", "new_secret": SECRET}, follow_redirects=True)
    assert "Only http:// and https://" in reply.get_data(as_text=True)
    assert _webhooks() == []


def test_editing_keeps_the_secret_unless_a_new_one_is_given(manager, receiver):
    webhook = webhooks.add_webhook(receiver.url, secret=SECRET, events="chat.closed")
    page = manager.get(f"/admin/webhook/edit/?id={webhook.id}").get_data(as_text=True)
    assert SECRET not in page
    assert re.search(r'<input checked[^>]*value="chat.closed"', page)
    assert not re.search(r'<input checked[^>]*value="chat.accepted"', page)
    manager.post(f"/admin/webhook/edit/?id={webhook.id}", data={
        "url": receiver.url, "new_secret": "", "chosen_events": ["chat.accepted"]},
        follow_redirects=True)
    [saved] = _webhooks()
    assert saved.secret == SECRET and saved.events == "chat.accepted" and not saved.is_enabled


def test_deliveries_are_listed_and_a_failed_one_can_be_retried(manager, app, desk, receiver):
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 1
    webhooks.add_webhook(receiver.url, secret=SECRET, events="chat.requested")
    receiver.status = 500
    chats.request_chat(name="Zoë", email="zoe@example.com", queue="Hardware", question="Hi")
    send()
    listing = manager.get("/admin/webhookdelivery/").get_data(as_text=True)
    assert "chat.requested" in listing and "FAILED" in listing and "answered 500" in listing
    [row] = db.session.scalars(select(WebhookDelivery)).all()
    manager.post("/admin/webhookdelivery/action/", data={"action": "retry",
                                                          "rowid": [str(row.id)]})
    receiver.status = 200
    send()
    db.session.expire_all()
    assert db.session.get(WebhookDelivery, row.id).status == OutboxStatus.SENT


def test_agents_cannot_see_webhooks(client, desk):
    sign_in(client, "alice")
    assert client.get("/admin/webhook/").status_code == 403
    assert client.get("/admin/webhookdelivery/").status_code == 403

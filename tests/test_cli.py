"""The command-line tools, run through Flask's CLI runner on each database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.desk import chats, report_rollup
from app.extensions import db
from app.models import (
    Chat,
    ChatStatus,
    OutboxMessage,
    OutboxStatus,
    SenderRole,
    User,
    utcnow,
)


def test_seed_demo_is_safe_to_run_twice_and_create_user_works(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "user alice" in first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "already present" in second.output
    created = runner.invoke(args=["create-user", "carol", "--name", "Carol Chen", "--group",
                                  "Network", "--password", "s3cret-passphrase"])
    assert created.exit_code == 0, created.output
    assert "Created agent carol" in created.output
    carol = db.session.scalars(select(User).where(User.username == "carol")).one()
    assert [group.name for group in carol.person.groups] == ["Network"]
    assert carol.check_password("s3cret-passphrase")
    duplicate = runner.invoke(args=["create-user", "carol", "--name", "C", "--password",
                                    "s3cret-passphrase"])
    assert duplicate.exit_code != 0 and "taken" in duplicate.output


def test_close_idle_chats_closes_quiet_chats_and_abandons_gone_end_users(app, desk):
    quiet = chats.request_chat(name="Quiet", email="q@example.com", queue="Software",
                               question="Anyone?").chat
    chats.accept_chat(quiet.id, desk.alice)
    gone = chats.request_chat(name="Gone", email="g@example.com", queue="Software",
                              question="Hello?").chat
    long_ago = utcnow() - timedelta(days=2)
    db.session.execute(db.update(Chat).where(Chat.id == quiet.id)
                       .values(last_activity_at=long_ago))
    db.session.execute(db.update(Chat).where(Chat.id == gone.id)
                       .values(visitor_left_at=long_ago))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["close-idle-chats"])
    assert result.exit_code == 0, result.output
    assert "Closed 1 idle chat(s); abandoned 1." in result.output
    db.session.expire_all()
    assert db.session.get(Chat, quiet.id).status == ChatStatus.CLOSED
    assert db.session.get(Chat, gone.id).status == ChatStatus.ABANDONED


def test_send_mail_once_sends_what_is_due(app, desk, tmp_path):
    app.config["MAIL_FILE_DIR"] = str(tmp_path)
    result = chats.request_chat(name="Mia", email="mia@example.com", queue="Software",
                                question="Mail me")
    chats.close_chat(result.chat.id, by=SenderRole.VISITOR)
    chats.request_transcript(result.chat.id)
    runner = app.test_cli_runner()
    sent = runner.invoke(args=["send-mail"])
    assert sent.exit_code == 0, sent.output
    assert "sent 1" in sent.output
    assert db.session.scalars(select(OutboxMessage.status)).all() == [OutboxStatus.SENT]
    assert len(list(tmp_path.glob("*.eml"))) == 1
    again = runner.invoke(args=["send-mail"])
    assert again.exit_code == 0 and "nothing due" in again.output


def test_recount_reports_counts_the_chats_in_the_new_time_zone(app, desk):
    chat = chats.request_chat(name="Eve", email="eve@example.com", queue="Network",
                              question="My VPN drops").chat
    # 23:30 UTC is already the next day in Berlin
    asked = utcnow().replace(hour=23, minute=30, second=0, microsecond=0) - timedelta(days=1)
    db.session.execute(update(Chat).where(Chat.id == chat.id).values(requested_at=asked))
    report_rollup.touch(chat.id)
    db.session.commit()

    def days_asked() -> list:
        cells = report_rollup.stored(db.session.connection())
        return [day for (scope, span, day, _), cell in cells.items()
                if (scope, span) == ("desk", "day") and cell.counts["requested"]]

    assert days_asked() == [asked.date()]
    app.config["DESK_TIMEZONE"] = "Europe/Berlin"
    done = app.test_cli_runner().invoke(args=["recount-reports"])
    assert done.exit_code == 0, done.output
    assert "days in Europe/Berlin" in done.output
    assert days_asked() == [asked.date() + timedelta(days=1)]

"""SMTP with STARTTLS or implicit TLS, and a login: the settings a real mail server needs."""

from __future__ import annotations

import ssl
import subprocess

import pytest
from aiosmtpd.smtp import AuthResult

from app.extensions import db
from app.mail import sender as mail_sender
from app.mail.compose import enqueue
from app.models import OutboxStatus
from tests.mail.support import SENDER, SmtpServer, make_due, outbox
from tests.support.server import free_port

pytestmark = [pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
              pytest.mark.one_backend]  # the SMTP server's TLS and login, whatever the database
USER, PASSWORD = "desk-mailer", "s3cret pass"


@pytest.fixture(scope="module")
def _certificate_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and its key (made once: RSA keys are slow)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def certificate(_certificate_files, monkeypatch):
    """A self-signed certificate for 127.0.0.1 that the client trusts (via SSL_CERT_FILE)."""
    cert, key = _certificate_files
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _check_login(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


def _secure_server(app, **options) -> SmtpServer:
    server = SmtpServer(free_port(), authenticator=_check_login, auth_required=True,
                        **options)
    server.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_TIMEOUT=5,
                      SMTP_USER=USER, SMTP_PASSWORD=PASSWORD, SMTP_STARTTLS=False,
                      SMTP_SSL=False, MAIL_SENDER=f"Service Desk <{SENDER}>")
    return server


def _one_message() -> None:
    enqueue(kind="resolution", to_address="zoe@example.com", to_name="Zoë", subject="Hello",
            body_text="Over TLS.", body_html=None)
    db.session.commit()


def test_starttls_then_login_delivers(app, certificate):
    server = _secure_server(app, tls_context=certificate, require_starttls=True,
                            auth_require_tls=True)
    try:
        _one_message()
        app.config["SMTP_STARTTLS"] = False  # the server insists on TLS first
        stats = mail_sender.send_due()
        assert (stats.sent, stats.retrying) == (0, 1)
        assert server.received == []
        [row] = outbox()
        assert "AUTH extension not supported" in row.last_error
        assert "SMTP_STARTTLS=true" in row.last_error  # the operator is told what to change

        app.config["SMTP_STARTTLS"] = True
        make_due(row)
        assert mail_sender.send_due().sent == 1
        [mail] = server.received
        assert mail.message.get_content().strip() == "Over TLS."
    finally:
        server.stop()


def test_implicit_tls_with_login_delivers(app, certificate):
    server = _secure_server(app, ssl_context=certificate, auth_require_tls=False)
    try:
        app.config.update(SMTP_SSL=True)
        _one_message()
        assert mail_sender.send_due().sent == 1
        assert len(server.received) == 1
    finally:
        server.stop()


def test_a_wrong_password_keeps_the_message_with_the_servers_answer(app):
    server = _secure_server(app, auth_require_tls=False)
    try:
        app.config["SMTP_PASSWORD"] = "wrong"
        _one_message()
        stats = mail_sender.send_due()
        assert (stats.sent, stats.retrying, stats.stopped) == (0, 1, True)
        [row] = outbox()
        assert row.status == OutboxStatus.PENDING and "535" in row.last_error
        assert server.received == []

        app.config["SMTP_PASSWORD"] = PASSWORD
        make_due(row)
        assert mail_sender.send_due().sent == 1
        assert len(server.received) == 1
    finally:
        server.stop()

"""Settings from the environment, one class per environment.

Every setting has a safe embedded default so that a newcomer runs the app with no other
server; production overrides them through environment variables.
"""

from __future__ import annotations

import os

# Signs sessions and visitor tokens on a developer's machine only: production refuses it.
DEVELOPMENT_SECRET_KEY = "dev-only-change-me"
SECRET_KEY_MIN_LENGTH = 16


class UnsafeConfiguration(RuntimeError):
    """A production setting that would leave the desk open (e.g. no real SECRET_KEY)."""


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Production-shaped defaults, read from the environment at instantiation."""

    def __init__(self) -> None:
        env = os.environ
        self.SECRET_KEY = env.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
        # None means: a SQLite file in the instance folder (filled in by create_app).
        self.SQLALCHEMY_DATABASE_URI = env.get("DATABASE_URL") or None
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.ASYNC_MODE = env.get("ASYNC_MODE", "eventlet")
        self.SOCKETIO_MESSAGE_QUEUE = env.get("SOCKETIO_MESSAGE_QUEUE") or None
        self.SOCKETIO_CHANNEL = env.get("SOCKETIO_CHANNEL", "service-desk-chat")
        # Origins allowed to embed the widget (CORS and Socket.IO); the app's own origin is
        # always allowed.
        self.WIDGET_ALLOWED_ORIGINS = _list(env.get("WIDGET_ALLOWED_ORIGINS"))
        # Shared with the host sites' back ends, which sign their signed-in users' e-mail
        # addresses with it (HMAC-SHA256); unset, no chat request is verified.
        self.WIDGET_IDENTITY_SECRET = env.get("WIDGET_IDENTITY_SECRET") or None
        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI", "memory://")
        self.CHAT_REQUEST_RATE_LIMIT = env.get("CHAT_REQUEST_RATE_LIMIT", "10 per minute")
        self.RATELIMIT_ENABLED = _bool(env.get("RATELIMIT_ENABLED"), True)
        # Several desks sharing one Redis keep their counters apart with a prefix.
        self.RATELIMIT_KEY_PREFIX = env.get("RATELIMIT_KEY_PREFIX", "")
        # Failed logins, per username typed and per client address (a stepped back-off: a
        # short window first, then a long one). A success does not count.
        self.LOGIN_RATE_LIMIT_ACCOUNT = env.get("LOGIN_RATE_LIMIT_ACCOUNT",
                                                "5 per minute; 20 per hour")
        self.LOGIN_RATE_LIMIT_ADDRESS = env.get("LOGIN_RATE_LIMIT_ADDRESS",
                                                "20 per minute; 100 per hour")
        self.PASSWORD_MIN_LENGTH = int(env.get("PASSWORD_MIN_LENGTH", "12"))
        self.VISITOR_TOKEN_MAX_AGE = int(env.get("VISITOR_TOKEN_MAX_AGE", str(24 * 3600)))
        self.CHAT_MESSAGE_MAX_LENGTH = int(env.get("CHAT_MESSAGE_MAX_LENGTH", "4000"))
        # One `history` frame holds at most this many messages and about this many bytes;
        # clients fetch the next page while `more` is true.
        self.HISTORY_PAGE_MESSAGES = int(env.get("HISTORY_PAGE_MESSAGES", "200"))
        self.HISTORY_PAGE_BYTES = int(env.get("HISTORY_PAGE_BYTES", str(256 * 1024)))
        # PostgreSQL: whether the commit of chat messages waits for the write-ahead log to be
        # on disk. On by default: an acknowledged message survives a crash of the database too.
        # Off is faster, and a database crash may lose the last ~0.6 s of them (README).
        self.CHAT_MESSAGE_SYNC_COMMIT = _bool(env.get("CHAT_MESSAGE_SYNC_COMMIT"), True)
        # PostgreSQL: batches of chat messages written at once, each on a connection of its
        # own (one waits for the disk while the next is written). SQLite: always one.
        self.CHAT_MESSAGE_WRITERS = int(env.get("CHAT_MESSAGE_WRITERS", "2"))
        # Seconds a waiting visitor may stay disconnected before the chat is ABANDONED.
        self.CHAT_ABANDON_GRACE = int(env.get("CHAT_ABANDON_GRACE", "60"))
        # Seconds without a message before an active chat is closed (Control Desk's chat timeout).
        self.CHAT_IDLE_TIMEOUT = int(env.get("CHAT_IDLE_TIMEOUT", "1800"))
        self.INDICATOR_STYLE = env.get("INDICATOR_STYLE", "text")  # "text" or "bubble"
        # Chats an agent may hold at once, unless a manager set his own number (1 to 20).
        self.CHAT_MAX_PER_AGENT = int(env.get("CHAT_MAX_PER_AGENT", "3"))
        # Auto routing: seconds an offer waits for its agent before it moves on, and offers
        # let expire in a row after which the agent is set away (0: never).
        self.CHAT_OFFER_TIMEOUT = int(env.get("CHAT_OFFER_TIMEOUT", "30"))
        self.CHAT_OFFER_MISSES_AWAY = int(env.get("CHAT_OFFER_MISSES_AWAY", "3"))
        # Seconds an agent still counts as online after closing his last console (a reload
        # keeps him available); minutes without activity after which his console sets him
        # away (0: never).
        self.AGENT_OFFLINE_GRACE = int(env.get("AGENT_OFFLINE_GRACE", "5"))
        self.AGENT_IDLE_AWAY_MINUTES = int(env.get("AGENT_IDLE_AWAY_MINUTES", "0"))
        # Seconds between two passes of the offer sweeper (expired offers move on).
        self.ROUTING_SWEEP_INTERVAL = float(env.get("ROUTING_SWEEP_INTERVAL", "1"))
        # Per-socket flood limit (token bucket): average events per second and burst size.
        self.SOCKET_EVENTS_PER_SECOND = float(env.get("SOCKET_EVENTS_PER_SECOND", "5"))
        self.SOCKET_EVENT_BURST = int(env.get("SOCKET_EVENT_BURST", "20"))
        # History pages have a budget of their own (the same shape): a client resuming a long
        # chat pages through it at once without spending the budget of its messages.
        self.SOCKET_HISTORY_PER_SECOND = float(env.get("SOCKET_HISTORY_PER_SECOND", "10"))
        self.SOCKET_HISTORY_BURST = int(env.get("SOCKET_HISTORY_BURST", "60"))
        # Bytes that may wait to be sent to one connection: a client that stops reading is
        # dropped past it (it reconnects and fetches what it missed by seq).
        self.SOCKET_OUTBOX_MAX_BYTES = int(env.get("SOCKET_OUTBOX_MAX_BYTES",
                                                   str(8 * 1024 * 1024)))
        # Seconds between a server process's heartbeats; one silent for 3 beats is dead (its
        # agents count offline, its waiting end users as gone).
        self.PRESENCE_HEARTBEAT = float(env.get("PRESENCE_HEARTBEAT", "2"))
        # Seconds between abandon/idle sweeps (empty: derived from the grace and time-out).
        self.REALTIME_SWEEP_INTERVAL = float(env.get("REALTIME_SWEEP_INTERVAL") or 0) or None
        self.SMTP_HOST = env.get("SMTP_HOST") or None
        self.SMTP_PORT = int(env.get("SMTP_PORT", "25"))
        self.SMTP_STARTTLS = _bool(env.get("SMTP_STARTTLS"))
        self.SMTP_SSL = _bool(env.get("SMTP_SSL"))
        self.SMTP_USER = env.get("SMTP_USER") or None
        self.SMTP_PASSWORD = env.get("SMTP_PASSWORD") or None
        self.SMTP_TIMEOUT = float(env.get("SMTP_TIMEOUT", "10"))
        # The name given in EHLO (default: this host's fully qualified name, looked up once).
        self.SMTP_LOCAL_HOSTNAME = env.get("SMTP_LOCAL_HOSTNAME") or None
        self.MAIL_SENDER = env.get("MAIL_SENDER", "Service Desk <servicedesk@localhost>")
        self.MAIL_REPLY_TO = env.get("MAIL_REPLY_TO") or None
        self.MAIL_MAX_ATTEMPTS = int(env.get("MAIL_MAX_ATTEMPTS", "8"))
        # Run the outbox sender inside the server process (seconds between passes; 0 = off).
        self.MAIL_WORKER_INTERVAL = float(env.get("MAIL_WORKER_INTERVAL", "5"))
        # Back-off after a failed try: MAIL_RETRY_DELAY seconds, doubling up to the maximum.
        self.MAIL_RETRY_DELAY = float(env.get("MAIL_RETRY_DELAY", "60"))
        self.MAIL_RETRY_MAX_DELAY = float(env.get("MAIL_RETRY_MAX_DELAY", "21600"))
        # A row SENDING for longer than this belongs to a worker that died: try it again.
        self.MAIL_SENDING_TIMEOUT = float(env.get("MAIL_SENDING_TIMEOUT", "300"))
        # With no SMTP_HOST, messages are written as .eml files here (default: instance/mail).
        self.MAIL_FILE_DIR = env.get("MAIL_FILE_DIR") or None
        # Requests per personal API token (or per address without one) to /api/v1.
        self.API_RATE_LIMIT = env.get("API_RATE_LIMIT", "600 per minute")
        # Webhooks: a sender in every server process (seconds between rounds; 0 = off; the
        # process wakes it at once for what it wrote itself), a time-out per call, back-off
        # (WEBHOOK_RETRY_DELAY doubling up to the maximum; FAILED after WEBHOOK_MAX_ATTEMPTS:
        # about two and a half days), and private or loopback receivers only when allowed.
        self.WEBHOOK_WORKER_INTERVAL = float(env.get("WEBHOOK_WORKER_INTERVAL", "2"))
        self.WEBHOOK_TIMEOUT = float(env.get("WEBHOOK_TIMEOUT", "5"))
        self.WEBHOOK_MAX_ATTEMPTS = int(env.get("WEBHOOK_MAX_ATTEMPTS", "20"))
        self.WEBHOOK_RETRY_DELAY = float(env.get("WEBHOOK_RETRY_DELAY", "10"))
        self.WEBHOOK_RETRY_MAX_DELAY = float(env.get("WEBHOOK_RETRY_MAX_DELAY", "21600"))
        self.WEBHOOK_SENDING_TIMEOUT = float(env.get("WEBHOOK_SENDING_TIMEOUT", "300"))
        self.WEBHOOK_ALLOW_PRIVATE = _bool(env.get("WEBHOOK_ALLOW_PRIVATE"))
        self.PUBLIC_BASE_URL = env.get("PUBLIC_BASE_URL", "")
        # Files in chats: bytes per file (refused before the body is read), files per chat
        # and per message, pixels per image, and how long links to them live (seconds).
        self.ATTACHMENT_MAX_BYTES = int(env.get("ATTACHMENT_MAX_BYTES", str(10_000_000)))
        self.ATTACHMENT_MAX_PER_CHAT = int(env.get("ATTACHMENT_MAX_PER_CHAT", "30"))
        self.ATTACHMENT_MAX_PER_MESSAGE = int(env.get("ATTACHMENT_MAX_PER_MESSAGE", "10"))
        self.ATTACHMENT_MAX_PIXELS = int(env.get("ATTACHMENT_MAX_PIXELS", str(40_000_000)))
        self.ATTACHMENT_LINK_MAX_AGE = int(env.get("ATTACHMENT_LINK_MAX_AGE", str(12 * 3600)))
        self.ATTACHMENT_MAIL_LINK_MAX_AGE = int(env.get("ATTACHMENT_MAIL_LINK_MAX_AGE",
                                                        str(30 * 24 * 3600)))
        # An upload never sent is deleted by the sweeper after this many seconds.
        self.ATTACHMENT_UNSENT_TTL = int(env.get("ATTACHMENT_UNSENT_TTL", "3600"))
        # Where their bytes live: "database" (default) or "s3" (any S3-compatible store;
        # credentials from the usual AWS_* variables or the machine's role).
        self.ATTACHMENT_STORAGE = env.get("ATTACHMENT_STORAGE", "database")
        self.ATTACHMENT_S3_BUCKET = env.get("ATTACHMENT_S3_BUCKET") or None
        self.ATTACHMENT_S3_PREFIX = env.get("ATTACHMENT_S3_PREFIX", "")
        self.ATTACHMENT_S3_ENDPOINT_URL = env.get("ATTACHMENT_S3_ENDPOINT_URL") or None
        self.ATTACHMENT_S3_REGION = env.get("ATTACHMENT_S3_REGION") or None
        self.FLASK_ADMIN_SWATCH = "cerulean"
        # Calendar days of the desk dashboard ("today", the last 7 days): an IANA zone name.
        self.DESK_TIMEZONE = env.get("DESK_TIMEZONE", "UTC")
        self.WTF_CSRF_TIME_LIMIT = None
        # Session and remember-me cookies: never sent by other sites' requests (Lax), never
        # readable by scripts, and only over https when the desk is served over https.
        secure = _bool(env.get("SECURE_COOKIES"))
        self.SESSION_COOKIE_SAMESITE = self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_HTTPONLY = self.REMEMBER_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SECURE = self.REMEMBER_COOKIE_SECURE = secure
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed
        # (1 behind nginx): client addresses for limits and logs, the public scheme and host
        # for the Socket.IO origin check. 0 (direct clients) ignores those headers.
        self.TRUSTED_PROXIES = int(env.get("TRUSTED_PROXIES", "0"))
        self.LOG_FORMAT = env.get("LOG_FORMAT", "text")  # "text" or "json" (one object a line)
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO")
        # GET /metrics: a bearer token and/or the addresses allowed (loopback by default;
        # empty with no token: closed).
        self.METRICS_TOKEN = env.get("METRICS_TOKEN") or None
        self.METRICS_ALLOWED_IPS = _list(env.get("METRICS_ALLOWED_IPS", "127.0.0.1/8,::1"))


class ProductionConfig(Config):
    """What ``python wsgi.py`` runs: it refuses settings that are only fit for a laptop."""

    def __init__(self) -> None:
        super().__init__()
        self.REFUSE_UNSAFE_SETTINGS = True


def refuse_unsafe_settings(config) -> None:
    """Production must not start with the development SECRET_KEY (anyone could sign a
    session cookie or a visitor token with it) or a key too short to resist guessing."""
    if not config.get("REFUSE_UNSAFE_SETTINGS"):
        return
    key = config.get("SECRET_KEY") or ""
    if key == DEVELOPMENT_SECRET_KEY or len(key) < SECRET_KEY_MIN_LENGTH:
        raise UnsafeConfiguration(
            f"SECRET_KEY must be set to a random value of at least {SECRET_KEY_MIN_LENGTH} "
            "characters in production, e.g. "
            "python -c 'import secrets; print(secrets.token_hex(32))'")


class DevelopmentConfig(Config):
    def __init__(self) -> None:
        super().__init__()
        self.DEBUG = _bool(os.environ.get("FLASK_DEBUG"))


class TestingConfig(Config):
    """Used by the test-suite: threading mode, no background loops unless a test asks."""

    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        self.ASYNC_MODE = "threading"
        self.MAIL_WORKER_INTERVAL = 0
        self.WEBHOOK_WORKER_INTERVAL = 0
        self.WEBHOOK_ALLOW_PRIVATE = True  # the tests' receivers listen on loopback
        self.RATELIMIT_ENABLED = False
        self.WTF_CSRF_ENABLED = False
        # Demo users are hashed hundreds of times per run; production keeps scrypt.
        self.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
        # The suite's stories hand many chats to one agent; tests of capacity set their own.
        self.CHAT_MAX_PER_AGENT = 1000


CONFIGS = {"development": DevelopmentConfig, "production": ProductionConfig,
           "testing": TestingConfig}

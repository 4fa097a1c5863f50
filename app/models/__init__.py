"""The desk's SQLAlchemy models, one module per aggregate."""

from sqlalchemy import DDL, event

from app.extensions import db
from app.models.chat import Chat, ChatMessage, ChatOffer, ChatStatus, OfferOutcome, SenderRole
from app.models.context import ChatContext
from app.models.files import Attachment, StoredFile
from app.models.integration import ApiToken, Webhook, WebhookDelivery
from app.models.mail import OutboxMessage, OutboxStatus
from app.models.people import (
    AgentPresence,
    AgentStatus,
    Person,
    PersonGroup,
    Role,
    Routing,
    ServerNode,
    User,
    group_members,
)
from app.models.reports import ChatReportDay
from app.models.requests import (
    Asset,
    ConfigurationItem,
    ServiceRequest,
    SRSource,
    SRStatus,
    StatusHistory,
    StatusTally,
    WorkLogEntry,
    WorkLogType,
)
from app.models.supervision import CannedResponse, ChatNote, ChatSupervisor, NoteKind
from app.models.types import utcnow

# The trigram indexes of the search need PostgreSQL's pg_trgm (a trusted extension: the
# database's owner may create it). Migrations create it too.
event.listen(db.metadata, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))

__all__ = [
    "AgentPresence", "AgentStatus", "ApiToken", "Asset", "Attachment", "CannedResponse", "Chat",
    "ChatContext", "ChatMessage", "ChatNote", "ChatOffer", "ChatReportDay", "ChatStatus",
    "ChatSupervisor",
    "ConfigurationItem", "NoteKind", "OfferOutcome", "OutboxMessage", "OutboxStatus", "Person",
    "PersonGroup", "Role", "Routing", "SRSource", "SRStatus", "SenderRole", "ServerNode",
    "ServiceRequest", "StatusHistory", "StatusTally", "StoredFile", "User", "Webhook",
    "WebhookDelivery", "WorkLogEntry", "WorkLogType", "group_members", "utcnow",
]

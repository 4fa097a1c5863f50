"""The desk's SQLAlchemy models, one module per aggregate."""

from app.models.chat import Chat, ChatMessage, ChatStatus, SenderRole
from app.models.mail import OutboxMessage, OutboxStatus
from app.models.people import AgentPresence, Person, PersonGroup, Role, User, group_members
from app.models.requests import (
    Asset,
    ConfigurationItem,
    ServiceRequest,
    SRSource,
    SRStatus,
    StatusHistory,
    WorkLogEntry,
    WorkLogType,
)
from app.models.types import utcnow

__all__ = [
    "AgentPresence", "Asset", "Chat", "ChatMessage", "ChatStatus", "ConfigurationItem",
    "OutboxMessage", "OutboxStatus", "Person", "PersonGroup", "Role", "SRSource", "SRStatus",
    "SenderRole", "ServiceRequest", "StatusHistory", "User", "WorkLogEntry", "WorkLogType",
    "group_members", "utcnow",
]

"""The demo desk (docs/domain.md): three queues, two agents, a manager, a few CIs and assets."""

from __future__ import annotations

from sqlalchemy import select

from app.desk import people
from app.desk.unit_of_work import use_case
from app.extensions import db
from app.models import Asset, ConfigurationItem, PersonGroup, Role, User

QUEUES = {
    "Hardware": "Laptops, desktops, printers and phones.",
    "Software": "Applications, licences, e-mail and accounts.",
    "Network": "VPN, Wi-Fi, network drives and connectivity.",
}
GREETING = "Hello, this is {agent} from the {queue} desk. How can I help you today?"
USERS = [
    ("alice", "Alice Agent", "alice@example.com", "+1 555 0101", Role.AGENT,
     ["Hardware", "Software"]),
    ("bob", "Bob Builder", "bob@example.com", "+1 555 0102", Role.AGENT,
     ["Software", "Network"]),
    ("maria", "Maria Manager", "maria@example.com", "+1 555 0103", Role.MANAGER, []),
]
CIS = [("MAIL-EXCHANGE", "Corporate e-mail service", "Application"),
       ("VPN-GW-01", "VPN gateway", "Network"),
       ("ERP-PROD", "ERP production instance", "Application"),
       ("PRN-FLOOR2", "Printer, 2nd floor", "Hardware")]
ASSETS = [("LT-1001", "ThinkPad T14 laptop", "HQ"),
          ("LT-1002", "MacBook Pro 14", "HQ"),
          ("PH-2001", "Desk phone", "Branch office"),
          ("MN-3001", "27-inch monitor", "HQ")]


@use_case
def seed_demo(password: str = "demo") -> list[str]:
    """Create what is missing; running it twice changes nothing. Returns what was created."""
    created: list[str] = []
    for name, description in QUEUES.items():
        if db.session.scalars(select(PersonGroup).where(PersonGroup.name == name)).first():
            continue
        db.session.add(PersonGroup(name=name, description=description, is_chat_queue=True,
                                   greeting=GREETING))
        created.append(f"queue {name}")
    for name, description, classification in CIS:
        if not db.session.scalars(select(ConfigurationItem).where(
                ConfigurationItem.name == name)).first():
            db.session.add(ConfigurationItem(name=name, description=description,
                                             classification=classification))
            created.append(f"CI {name}")
    for tag, description, location in ASSETS:
        if not db.session.scalars(select(Asset).where(Asset.tag == tag)).first():
            db.session.add(Asset(tag=tag, description=description, location=location))
            created.append(f"asset {tag}")
    db.session.flush()
    for username, display, email, phone, role, groups in USERS:
        if db.session.scalars(select(User).where(User.username == username)).first():
            continue
        # The demo's accounts keep the documented password, however short.
        people.create_user(username, password, display_name=display, email=email, phone=phone,
                           role=role, groups=groups, password_min_length=1)
        created.append(f"user {username}")
    return created

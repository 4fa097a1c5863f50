"""A desk with a past, for the demo and the screenshots: resolved SRs with their solutions
("solved before" finds them) and earlier requests of the demo end user."""

from __future__ import annotations

from sqlalchemy import select

from app.desk import people, requests
from app.desk.unit_of_work import use_case
from app.extensions import db
from app.models import PersonGroup, ServiceRequest, SRSource, User

# (reported by (name, e-mail), queue, summary, details, solution or None for still open)
HISTORY = [
    (("Dana Field", "dana@example.org"), "Network", "VPN drops every few minutes",
     "The VPN client disconnects every few minutes when I work from home.",
     "Update the VPN client to 5.2 from the Software Center, then in Settings > Connection "
     "turn off 'Allow local LAN access'. The gateway drops idle split tunnels."),
    (("Omar Reyes", "omar@example.org"), "Software", "Outlook keeps asking for my password",
     "Since this morning Outlook asks for my password again and again.",
     "Remove the old Outlook entries in Windows Credential Manager (Windows credentials > "
     "MicrosoftOffice16), restart Outlook and sign in once with your new password."),
    (("Lena Park", "lena@example.org"), "Hardware", "Printer on floor 2 jams on every job",
     "The printer on the second floor jams on every print job, even single pages.",
     "Tray 2's paper guide was loose: pushed back into place and the roller cleaned."),
    (("Erin End-User", "erin@example.org"), "Network", "VPN disconnects on hotel Wi-Fi",
     "The VPN will not stay connected on the hotel Wi-Fi.",
     "Hotel networks block UDP 4500: switch the VPN client to TCP 443 in Settings."),
    (("Erin End-User", "erin@example.org"), "Software", "Cannot open shared calendar",
     "The team calendar shows an error when I open it.", None),
    # The demo customer page's signed-in employee (/?user=erin): an open request of hers that
    # the widget offers to chat about.
    (("Erin Employee", "erin.employee@northwind.example"), "Hardware",
     "Docking station does not charge my laptop",
     "Since the move to the new desk the docking station no longer charges the laptop.", None),
]


@use_case
def seed_history() -> list[str]:
    """Add the SRs above unless they are there; returns the numbers created."""
    maria = db.session.scalars(select(User).where(User.username == "maria")).first()
    created = []
    for (name, email), queue, summary, details, solution in HISTORY:
        if db.session.scalars(select(ServiceRequest.id).where(
                ServiceRequest.summary == summary)).first():
            continue
        group = db.session.scalars(select(PersonGroup).where(PersonGroup.name == queue)).one()
        sr = requests.open_service_request(
            summary=summary, details=details, owner_group=group, source=SRSource.CHAT,
            reported_by=people.end_user(name, email, verified=True))
        if solution:
            requests.update_service_request(sr.id, actor=maria, expected_version=sr.version,
                                             changes={"solution": solution},
                                             status="RESOLVED", memo="Solved in the chat")
        created.append(sr.number)
    return created

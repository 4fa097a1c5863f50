"""Who an end user is: what he typed, or what a host site vouched for.

Anyone can type any e-mail address into the widget, so a chat request proves nothing about
its sender: it gets a person record of its own, with what was typed, and never finds,
shows or changes the records the desk keeps for that address (their name, phone and
requests). A host site whose users are signed in vouches for one of them with
``identity_hash = hex(HMAC-SHA256(WIDGET_IDENTITY_SECRET, email))``, computed by its back
end; with a valid hash the chat is *verified*, belongs to the desk's person of that
address, and may be about one of that person's open service requests.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select

from app.desk.errors import Forbidden, NotFound
from app.desk.settings import setting
from app.desk.validation import clean_email
from app.extensions import db
from app.models import Person, ServiceRequest, SRStatus

OPEN_STATUSES = (SRStatus.NEW, SRStatus.QUEUED, SRStatus.INPROGRESS)
MY_REQUESTS_LIMIT = 50


def identity_hash(secret: str, email: str) -> str:
    """What a host site's back end computes for its signed-in user."""
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()


def is_vouched_for(email: object, given_hash: object) -> bool:
    """Whether the hash is the host sites' signature of this address (constant time)."""
    secret = setting("WIDGET_IDENTITY_SECRET")
    if not secret or not isinstance(email, str) or not isinstance(given_hash, str):
        return False
    expected = identity_hash(secret, email.strip()).encode()
    return hmac.compare_digest(expected, given_hash.strip().lower().encode("utf-8"))


def not_verified() -> Forbidden:
    return Forbidden("not_verified", "Your identity could not be verified; reload the page "
                     "and try again.", "identity_hash")


def verified_address(email: object, given_hash: object) -> str:
    """The address a host site vouched for (cleaned), or `not_verified`."""
    if not is_vouched_for(email, given_hash):
        raise not_verified()
    return clean_email(email)


def verified_person(address: str) -> Person | None:
    """The desk's own record of a vouched-for address (never one an anonymous request made)."""
    return db.session.scalars(
        select(Person).where(db.func.lower(Person.email) == address.lower(),
                             Person.verified.is_(True))
        .order_by(Person.id)).first()


def open_requests(person: Person | None) -> list[ServiceRequest]:
    """The person's open service requests, most recently changed first."""
    if person is None or person.id is None:
        return []
    return list(db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.reported_by_id == person.id,
                                     ServiceRequest.status.in_(OPEN_STATUSES))
        .order_by(ServiceRequest.changed_at.desc(), ServiceRequest.id.desc())
        .limit(MY_REQUESTS_LIMIT)))


def my_open_requests(email: object, given_hash: object) -> list[ServiceRequest]:
    """`POST /api/my-requests`: the open requests of a vouched-for end user."""
    return open_requests(verified_person(verified_address(email, given_hash)))


def open_request_of(person: Person, number: object) -> ServiceRequest:
    """One of the person's open requests, by number; anything else is `unknown_sr` (whether
    it does not exist, is closed or is someone else's: the answer does not tell)."""
    sr = None
    if isinstance(number, str) and 0 < len(number) <= 32 and person.id is not None:
        sr = db.session.scalars(select(ServiceRequest).where(
            ServiceRequest.number == number.strip().upper())).first()
    if sr is None or sr.reported_by_id != person.id or sr.status not in OPEN_STATUSES:
        raise NotFound("unknown_sr", "No open service request of yours has this number.",
                       "sr_number")
    return sr

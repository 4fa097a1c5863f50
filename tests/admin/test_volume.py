"""Admin screens that stay the same size and cost on a desk with years of data.

Relation fields search as you type instead of listing whole tables, list pages cost a fixed
number of statements whatever their rows, and nothing counts every SR for the pager.
"""

from __future__ import annotations

import json

import pytest
from flask import current_app
from sqlalchemy import select

from app.desk import people
from app.extensions import db
from app.models import ConfigurationItem, PersonGroup, ServiceRequest
from tests.admin.conftest import open_chat_sr
from tests.support.accounts import sign_in
from tests.support.sql import recorded


def _end_users(count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        people.end_user(f"Person Number{n:03d}", f"p{n}@example.net", verified=True)
    db.session.commit()


def _new_sr(**fields) -> dict:
    """What the new-SR form posts."""
    return {"summary": "Printer jams", "owner_group": "__None", "source": "PHONE",
            "reported_priority": "", "impact": "", "urgency": "", "ci": "__None",
            "asset": "__None", **fields}


def _lookup(manager, view: str, name: str, query: str, **extra) -> list:
    response = manager.get(f"/admin/{view}/ajax/lookup/",
                           query_string={"name": name, "query": query, **extra})
    assert response.status_code == 200, response.status_code
    return json.loads(response.get_data(as_text=True))


def test_forms_do_not_list_the_persons_whatever_their_number(manager, desk):
    pages = ("/admin/servicerequest/new/", f"/admin/persongroup/edit/?id={desk.hardware.id}")
    _end_users(3)
    before = {page: len(manager.get(page).data) for page in pages}
    _end_users(40, start=3)
    for page in pages:
        html = manager.get(page).get_data(as_text=True)
        assert "Number042" not in html
        assert 'data-role="select2-ajax"' in html
        assert abs(len(html) - before[page]) < 200  # the same form, not 40 more <option>s


def test_a_person_is_found_as_you_type_and_chosen_by_id(manager, desk):
    _end_users(30)
    found = _lookup(manager, "servicerequest", "reported_by", "number02")
    assert [text for _, text in found] == [f"Person Number{n:03d} <p{n}@example.net>"
                                           for n in range(20, 30)]
    second_page = _lookup(manager, "servicerequest", "reported_by", "number0", offset=10)
    assert [text[:19] for _, text in second_page][:1] == ["Person Number010 <p"]
    person_id = found[0][0]
    response = manager.post("/admin/servicerequest/new/",
                            data=_new_sr(reported_by=str(person_id)), follow_redirects=True)
    assert response.status_code == 200
    sr = db.session.scalars(select(ServiceRequest)).one()
    assert sr.reported_by_id == person_id


def test_an_id_that_names_no_record_is_refused(manager, desk):
    response = manager.post("/admin/servicerequest/new/", data=_new_sr(reported_by="999999"))
    assert "Choose who reported it." in response.get_data(as_text=True)
    sr = open_chat_sr().sr
    edit = manager.post(f"/admin/servicerequest/edit/?id={sr.id}", data={
        "version": str(sr.version), "summary": sr.summary, "status": sr.status.value,
        "owner_group": str(sr.owner_group_id), "reported_priority": "", "impact": "",
        "urgency": "", "ci": "31337", "asset": "not-an-id"})
    assert "Not a valid choice." in edit.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(ServiceRequest)).one().ci_id is None


def test_lookups_page_groups_cis_and_assets_and_cap_the_page(manager, desk):
    assert [name for _, name in _lookup(manager, "servicerequest", "owner_group", "")] == [
        "Hardware", "Network", "Software"]
    assert [name for _, name in _lookup(manager, "servicerequest", "ci", "vpn")] == ["VPN-GW-01"]
    for n in range(60):
        db.session.add(ConfigurationItem(name=f"SRV-{n:03d}"))
    db.session.commit()
    assert len(_lookup(manager, "servicerequest", "ci", "srv", limit=100000)) == 50
    assert _lookup(manager, "servicerequest", "asset", "lt-100")[0][1].startswith("LT-1001")
    assert manager.get("/admin/servicerequest/ajax/lookup/?name=nope&query=x").status_code == 404


def test_lookups_are_for_managers_only(client, desk):
    sign_in(client, "bob")
    response = client.get("/admin/servicerequest/ajax/lookup/?name=reported_by&query=alice")
    assert response.status_code == 403


def test_group_members_are_chosen_by_search(manager, desk):
    _end_users(5)
    person_id = _lookup(manager, "persongroup", "members", "number003")[0][0]
    response = manager.post(f"/admin/persongroup/edit/?id={desk.network.id}", data={
        "name": "Network", "is_chat_queue": "y",
        "members": f"{desk.bob.person_id},{person_id}"}, follow_redirects=True)
    assert response.status_code == 200
    db.session.expire_all()
    group = db.session.get(PersonGroup, desk.network.id)
    assert sorted(p.id for p in group.members) == sorted([desk.bob.person_id, person_id])


@pytest.mark.parametrize("page", ["/admin/servicerequest/", "/admin/chat/", "/admin/person/",
                                  "/admin/persongroup/", "/admin/user/",
                                  "/admin/servicerequest/?search=printer"])
def test_list_pages_cost_the_same_statements_for_3_or_12_rows(manager, desk, page):
    def statements() -> int:
        # A context of its own, as a served request has: nothing an earlier request loaded
        # (session, g) is at hand.
        with current_app.app_context(), recorded(db.engine) as seen:
            assert manager.get(page).status_code == 200
        return len(seen)

    def rows(start: int, count: int) -> None:
        for n in range(start, start + count):
            open_chat_sr(queue="Hardware" if n % 2 else "Software", name=f"User {n}",
                         email=f"user{n}@example.com", question=f"Printer {n} offline")
            people.create_user(f"agent{n}", "a long secret", display_name=f"Agent {n}",
                               groups=["Network"])

    rows(0, 3)
    few = statements()
    rows(3, 9)
    assert statements() == few

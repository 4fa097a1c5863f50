"""SRs through the API: list, search, pages, read with ETag, open, change with the version
check, work log; bad input answered the desk's way."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.live


def _numbers(reply) -> list[str]:
    assert reply.status_code == 200, reply.text
    return [item["number"] for item in reply.json()["items"]]


def test_each_user_lists_the_srs_he_may_see(api_desk):
    facts = api_desk.facts
    alice = _numbers(api_desk.get("/service-requests", "alice"))
    bob = _numbers(api_desk.get("/service-requests", "bob"))
    maria = _numbers(api_desk.get("/service-requests", "maria"))
    assert facts["hardware_sr"] in alice and facts["switch_sr"] not in alice
    assert facts["switch_sr"] in bob and facts["hardware_sr"] not in bob
    assert {facts["hardware_sr"], facts["switch_sr"], facts["network_sr"]} <= set(maria)
    assert maria == sorted(maria, key=lambda n: int(n[2:]), reverse=True)  # newest first


def test_filters_search_and_pages(api_desk):
    facts = api_desk.facts
    assert _numbers(api_desk.get("/service-requests", "maria",
                                 params={"q": "switch blinks"})) == [facts["switch_sr"]]
    assert _numbers(api_desk.get("/service-requests", "maria",
                                 params={"q": facts["hardware_sr"]})) == [facts["hardware_sr"]]
    queued = api_desk.get("/service-requests", "maria", params={"status": "QUEUED"}).json()
    assert all(item["status"] == "QUEUED" for item in queued["items"])
    bad = api_desk.get("/service-requests", "maria", params={"status": "LOST"})
    assert bad.status_code == 400 and bad.json()["field"] == "status"
    unknown = api_desk.get("/service-requests", "maria", params={"colour": "red"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "unknown_field"

    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = api_desk.get("/service-requests", "maria", params=params).json()
        seen += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == _numbers(api_desk.get("/service-requests", "maria"))


def test_read_an_sr_with_its_etag(api_desk):
    number = api_desk.facts["hardware_sr"]
    reply = api_desk.get(f"/service-requests/{number}")
    assert reply.status_code == 200
    sr = reply.json()
    assert sr["number"] == number and sr["owner"]["name"] == "Alice Agent"
    assert reply.headers["ETag"] == f'"{sr["version"]}"'
    assert "RESOLVED" in sr["allowed_transitions"]
    assert sr["chats"] == [{"chat_id": api_desk.facts["hardware_chat"], "status": "ACTIVE"}]
    again = api_desk.get(f"/service-requests/{number}", headers={"If-None-Match":
                                                                  reply.headers["ETag"]})
    assert again.status_code == 304


def test_open_then_change_an_sr_with_the_version_check(api_desk):
    software = next(q["id"] for q in api_desk.get("/queues", "bob").json()
                    if q["name"] == "Software")
    created = api_desk.call("POST", "/service-requests", "bob", json={
        "summary": "Printer on floor 3 is offline", "details": "Since this morning",
        "owner_group_id": software, "impact": 2, "source": "PHONE"})
    assert created.status_code == 201, created.text
    sr = created.json()
    assert sr["status"] == "QUEUED" and sr["impact"] == 2 and sr["source"] == "PHONE"
    assert sr["owner_group"]["name"] == "Software"
    assert sr["reported_by"]["name"] == "Bob Builder"
    path = f"/service-requests/{sr['number']}"

    moved = api_desk.call("PATCH", path, "bob", headers={"If-Match": created.headers["ETag"]},
                          json={"status": "INPROGRESS", "changes": {"urgency": 1}})
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "INPROGRESS" and moved.json()["urgency"] == 1
    assert moved.headers["ETag"] == f'"{moved.json()["version"]}"' != created.headers["ETag"]

    stale = api_desk.call("PATCH", path, "bob", headers={"If-Match": created.headers["ETag"]},
                          json={"changes": {"impact": 5}})
    assert stale.status_code == 409 and stale.json()["error"] == "stale"
    assert api_desk.get(path, "bob").json()["impact"] == 2  # nothing written

    no_version = api_desk.call("PATCH", path, "bob", json={"changes": {"impact": 5}})
    assert no_version.status_code == 428 and no_version.json()["error"] == "version_required"

    version = moved.json()["version"]
    no_solution = api_desk.call("PATCH", path, "bob", json={"version": version,
                                                            "status": "RESOLVED"})
    assert no_solution.status_code == 400 and no_solution.json()["field"] == "solution"
    illegal = api_desk.call("PATCH", path, "bob", json={"version": version, "status": "NEW"})
    assert illegal.status_code == 400 and illegal.json()["error"] == "illegal_transition"
    resolved = api_desk.call("PATCH", path, "bob", json={
        "version": version, "status": "RESOLVED", "changes": {"solution": "Replaced cable"}})
    assert resolved.status_code == 200 and resolved.json()["status"] == "RESOLVED"


def test_bad_bodies_change_nothing_and_say_why(api_desk):
    number = api_desk.facts["hardware_sr"]
    path = f"/service-requests/{number}"
    before = api_desk.get(path).json()
    version = before["version"]
    cases = [
        ({"data": "{not json", "headers": {"Content-Type": "application/json"}},
         "invalid_json", None),
        ({"data": "summary=x", "headers": {"Content-Type": "text/plain"}}, "invalid_json", None),
        ({"json": [1, 2]}, "invalid", None),
        ({"json": {"version": version, "colour": "red"}}, "unknown_field", "colour"),
        ({"json": {"version": version, "changes": {"owner_id": 3}}}, "unknown_field",
         "changes.owner_id"),
        ({"json": {"version": version, "changes": {"impact": 9}}}, "invalid", "changes.impact"),
        ({"json": {"version": version, "status": "DONE"}}, "invalid", "status"),
        ({"data": "[" * 5000 + "]" * 5000, "headers": {"Content-Type": "application/json"}},
         "invalid_json", None),
    ]
    for kwargs, code, field in cases:
        reply = api_desk.call("PATCH", path, "alice", **kwargs)
        assert reply.status_code == 400, (kwargs, reply.text)
        body = reply.json()
        assert body["ok"] is False and body["error"] == code and body.get("field") == field, body
    assert api_desk.get(path).json()["version"] == version
    missing = api_desk.call("POST", "/service-requests", "alice", json={"details": "no summary"})
    assert missing.status_code == 400 and missing.json() == {
        "ok": False, "error": "required", "message": "summary is required.", "field": "summary"}


def test_work_log_read_and_write(api_desk):
    number = api_desk.facts["hardware_sr"]
    path = f"/service-requests/{number}/work-log"
    added = api_desk.call("POST", path, "alice", json={"summary": "Cleaned the fan",
                                                       "log_type": "NOTE"})
    assert added.status_code == 201, added.text
    assert added.json()["type"] == "NOTE" and added.json()["author"] == "Alice Agent"
    entries = api_desk.get(path).json()
    assert entries[-1]["summary"] == "Cleaned the fan"
    transcript = api_desk.call("POST", path, "alice", json={"summary": "x",
                                                           "log_type": "TRANSCRIPT"})
    assert transcript.status_code == 400 and transcript.json()["field"] == "log_type"
    elsewhere = api_desk.call("POST", f"/service-requests/{api_desk.facts['switch_sr']}"
                              "/work-log", "alice", json={"summary": "sneaky"})
    assert elsewhere.status_code == 404

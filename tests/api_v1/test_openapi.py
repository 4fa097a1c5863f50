"""The OpenAPI document: valid OpenAPI 3, generated from the code, listing every route; the
page for people; the limit per token."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from app.desk import api_tokens


def _api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        if not path.startswith("/api/v1/") or path in ("/api/v1/openapi.json",
                                                       "/api/v1/docs"):
            continue
        routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_the_document_is_valid_openapi_and_lists_every_route(app, client):
    reply = client.get("/api/v1/openapi.json")
    assert reply.status_code == 200
    spec = reply.get_json()
    validate(spec)  # raises on anything that is not valid OpenAPI 3
    assert spec["openapi"].startswith("3.")
    documented = {(path, method) for path, item in spec["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete")}
    routes = _api_routes(app)
    assert len(routes) >= 11
    assert documented == routes
    for path, method in routes:
        operation = spec["paths"][path][method]
        assert {"401", "429"} <= set(operation["responses"]), (path, method)
    patch = spec["paths"]["/api/v1/service-requests/{number}"]["patch"]
    assert {"200", "400", "404", "409", "428"} <= set(patch["responses"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    schema = spec["components"]["schemas"]["ServiceRequestUpdate"]
    assert set(schema["properties"]) == {"version", "changes", "status", "memo"}


def test_the_page_for_people_loads_everything_from_the_desk(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>" not in html  # no inline script: the CSP allows none
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/") for source in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_requests_are_limited_per_token(database_url):
    from app import create_app, demo
    from app.extensions import db
    from app.models import User

    limited = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url,
                         RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute",
                         RATELIMIT_KEY_PREFIX=f"api-test-{id(object())}")
    with limited.app_context():
        db.drop_all()
        db.create_all()
        demo.seed_demo()
        tokens = [api_tokens.create_api_token(db.session.scalars(
            db.select(User).where(User.username == name)).one()).secret
            for name in ("alice", "bob")]
        client = limited.test_client()
        alice = {"Authorization": f"Bearer {tokens[0]}"}
        answers = [client.get("/api/v1/me", headers=alice).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        refused = client.get("/api/v1/me", headers=alice)
        assert refused.get_json()["error"] == "rate_limited" and refused.headers["Retry-After"]
        bob = client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens[1]}"})
        assert bob.status_code == 200  # another token has its own count
        db.session.remove()
        db.drop_all() if database_url.startswith("sqlite") else None
        db.engine.dispose()

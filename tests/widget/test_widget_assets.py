"""/widget.js and the demo customer page, as a browser and an embedding site receive them."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
import requests

from app.widget.demo_host import DemoHost

pytestmark = pytest.mark.one_backend  # static files and CORS headers, whatever the database

WIDGET_JS = Path(__file__).resolve().parents[2] / "app" / "widget" / "static" / "widget.js"


def test_widget_script_is_served_with_the_servers_message_limit(database_url):
    from app import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, CHAT_MESSAGE_MAX_LENGTH=1234)
    client = app.test_client()
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    text = response.get_data(as_text=True)
    assert 'var SERVER_CONFIG = {"maxLength": 1234, "maxFileBytes": 10000000};' in text
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    again = client.get("/widget.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    zipped = client.get("/widget.js", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data).decode() == text
    assert len(zipped.data) < len(text) / 3


def test_widget_loads_nothing_from_third_parties():
    code = WIDGET_JS.read_text(encoding="utf-8")
    body = code.split("*/", 1)[1]  # after the header comment with the embedding example
    assert not re.findall(r"https?://", body), "the widget must only talk to its own server"
    assert 'SERVER + "/vendor/socket.io.min.js"' in body
    styles = (WIDGET_JS.parent / "widget.css").read_text(encoding="utf-8")
    assert "url(" not in styles and "@import" not in styles  # no fonts or images from anywhere


def test_every_language_has_every_text_of_english():
    strings = json.loads((WIDGET_JS.parent / "strings.json").read_text(encoding="utf-8"))
    english = strings["en"]
    assert len(strings) >= 2
    for language, texts in strings.items():
        assert set(texts) == set(english), language
        for key, text in texts.items():
            assert set(re.findall(r"\{(\w+)\}", text)) == set(
                re.findall(r"\{(\w+)\}", english[key])), (language, key)
    used = set(re.findall(r'\bt\("(\w+)"', WIDGET_JS.read_text(encoding="utf-8")))
    used |= set(re.findall(r'data-t(?:-aria|-ph)?="(\w+)"', WIDGET_JS.read_text(encoding="utf-8")))
    assert len(used) > 50, "the widget's texts come from strings.json"
    assert used == set(english), ("missing", used - set(english), "unused", set(english) - used)


def test_widget_never_puts_variable_text_into_inner_html():
    """innerHTML only ever gets string literals and the static icons, joined with +."""
    code = WIDGET_JS.read_text(encoding="utf-8")
    assignments = re.findall(r"innerHTML\s*=\s*([^;]+);", code)
    assert len(assignments) >= 2, "the shell and the star icons are static markup"
    literal = r"'[^'\n]*'"
    part = rf"(?:{literal}|ICONS\.\w+)"
    for value in assignments:
        expression = " ".join(value.split())
        assert re.fullmatch(rf"{part}(?: \+ {part})*", expression), f"innerHTML with data: {value}"


def test_queue_list_answers_allowed_origins_only(desk, client, app):
    app.config["WIDGET_ALLOWED_ORIGINS"] = ["http://shop.example"]
    allowed = client.get("/widget/queues", headers={"Origin": "http://shop.example"})
    assert [q["name"] for q in allowed.get_json()["queues"]] == ["Hardware", "Network", "Software"]
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://shop.example"
    other = client.get("/widget/queues", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_demo_host_embeds_the_widget_with_one_script_tag():
    host = DemoHost("http://127.0.0.1:5999").start()
    try:
        page = requests.get(host.url + "/?queue=Software&greeting=%3Cb%3Ehi%3C/b%3E%22", timeout=5)
        assert page.status_code == 200
        tags = re.findall(r"<script[^>]*>", page.text)
        assert tags == ['<script src="http://127.0.0.1:5999/widget.js" data-queue="Software" '
                        'data-greeting="&lt;b&gt;hi&lt;/b&gt;&quot;" async>']
        default = requests.get(host.url + "/", timeout=5).text
        assert 'data-topics="Laptop, printer or phone=Hardware;' in default
        assert requests.get(host.url + "/admin", timeout=5).status_code == 404
    finally:
        host.stop()

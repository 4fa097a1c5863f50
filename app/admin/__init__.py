"""Flask-Admin 2 at /admin for managers: SRs, groups and queues, people, records, dashboard.

A new Admin and new view instances are built for every app (tests build many apps); the
views only call app/desk for changes.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_admin import Admin
from flask_admin.menu import MenuLink
from flask_admin.theme import Bootstrap4Theme

from app.admin.canned import CannedResponseView
from app.admin.dashboard import DashboardView
from app.admin.integration import WebhookDeliveryView, WebhookView
from app.admin.people import PersonGroupView, PersonView, UserView
from app.admin.records import AssetView, ChatView, ConfigurationItemView, OutboxView
from app.admin.reports import ReportsView
from app.admin.service_requests import ServiceRequestView
from app.extensions import csrf
from app.models import (
    Asset,
    CannedResponse,
    Chat,
    ConfigurationItem,
    OutboxMessage,
    Person,
    PersonGroup,
    ServiceRequest,
    User,
    Webhook,
    WebhookDelivery,
)
from app.security_headers import allow_inline_handlers, csp_nonce

# Templates (admin/desk/*.html) and the admin's own CSS and JS.
assets = Blueprint("desk_admin", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/static/desk-admin")


def build_admin(app: Flask) -> Admin:
    theme = Bootstrap4Theme(base_template="admin/desk/base.html",
                            swatch=app.config.get("FLASK_ADMIN_SWATCH", "default"), fluid=True)
    admin = Admin(app, name="Service Desk", url="/admin", theme=theme,
                  index_view=DashboardView(), csp_nonce_generator=csp_nonce)
    people, records = "People", "Records"
    views = [
        ReportsView(),
        ServiceRequestView(ServiceRequest, name="Service requests", endpoint="servicerequest",
                           menu_icon_type="fa", menu_icon_value="fa-ticket"),
        ChatView(Chat, name="Chats", endpoint="chat", menu_icon_type="fa",
                 menu_icon_value="fa-comments"),
        PersonGroupView(PersonGroup, name="Groups & queues", category=people,
                        endpoint="persongroup"),
        CannedResponseView(CannedResponse, name="Canned responses", category=people,
                           endpoint="cannedresponse"),
        UserView(User, name="Users", category=people, endpoint="user"),
        PersonView(Person, name="Persons", category=people, endpoint="person"),
        ConfigurationItemView(ConfigurationItem, name="Configuration items", category=records,
                              endpoint="ci"),
        AssetView(Asset, name="Assets", category=records, endpoint="asset"),
        OutboxView(OutboxMessage, name="Outbox", category=records, endpoint="outbox"),
        WebhookView(Webhook, name="Webhooks", category="Integration", endpoint="webhook"),
        WebhookDeliveryView(WebhookDelivery, name="Webhook deliveries", category="Integration",
                            endpoint="webhookdelivery"),
    ]
    for view in views:
        admin.add_view(view)
    admin.add_link(MenuLink(name="Agent console", endpoint="agent.console"))
    # The admin's forms carry Flask-Admin's own session CSRF token (SecureForm), which the
    # app-wide Flask-WTF check does not know: it is exempt here, never switched off.
    for view in [admin.index_view, *views]:
        csrf.exempt(view.blueprint)
    # The inline handlers of Flask-Admin's list templates: its filter menu and bulk actions.
    allow_inline_handlers(app, ["return false;"] + [
        f"return modelActions.execute('{name}');"
        for view in views for name, _ in getattr(view, "_actions", [])])
    return admin


def init_app(app: Flask) -> None:
    app.register_blueprint(assets)
    app.extensions["desk_admin"] = build_admin(app)

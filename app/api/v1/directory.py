"""/api/v1/persons, /api/v1/queues, /api/v1/me: who is who, and the queues now."""

from __future__ import annotations

from flask.views import MethodView

from app import wire
from app.api.v1 import current_user, resource
from app.api.v1.schemas import MeSchema, PersonPage, PersonQuery, PersonSchema, QueueSchema
from app.desk import lookups

blp = resource("Directory", __name__, "", "Persons, chat queues with their live figures, "
               "and the token's own user.")


@blp.route("/persons")
class Persons(MethodView):
    @blp.arguments(PersonQuery, location="query")
    @blp.response(200, PersonPage)
    @blp.errors(400)
    def get(self, query: dict):
        """Persons the user may see (his groups' members, the people of his SRs and chats;
        a manager: all), newest first, searched by name, e-mail or phone."""
        page = lookups.persons(current_user(), q=query.get("q"), cursor=query.get("cursor"),
                               limit=query.get("limit"))
        return {"items": [wire.person(person) for person in page.items],
                "next_cursor": page.next_cursor}


@blp.route("/persons/<int:person_id>")
class PersonItem(MethodView):
    @blp.response(200, PersonSchema)
    @blp.errors(404)
    def get(self, person_id: int):
        return wire.person(lookups.person(current_user(), person_id))


@blp.route("/queues")
class Queues(MethodView):
    @blp.response(200, QueueSchema(many=True))
    @blp.errors()
    def get(self):
        """The chat queues the user works in (a manager: all), with what waits now."""
        return lookups.queues(current_user())


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    @blp.errors()
    def get(self):
        """The token's user."""
        user = current_user()
        return {"id": user.id, "username": user.username, "name": user.display_name,
                "role": user.role.value, "person_id": user.person_id}

"""What the OpenAPI document says about the API's error answers, once for every route."""

from __future__ import annotations

MEANINGS = {
    400: "Bad input: malformed JSON (invalid_json), a field the request does not take "
         "(unknown_field), a missing or invalid value (required, invalid), or a rule of the "
         "desk (e.g. illegal_transition).",
    401: "No token, or an unknown or revoked one (unauthorized).",
    404: "No such resource, or one the token's user may not see (not_found, unknown_chat).",
    409: "The SR changed since it was read (stale): read it again.",
    428: "The change does not say which version it was read at (version_required).",
    429: "Too many requests with this token (rate_limited); see Retry-After.",
}

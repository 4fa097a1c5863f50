"""The service layer: every rule of the desk, called by every adapter.

Plain Python over SQLAlchemy sessions (no request, no current user, no Socket.IO). A use
case runs in one transaction (`unit_of_work`), commits once, and only then are its events
(`events`) delivered to listeners such as the realtime publisher.

- `requests`: service requests: numbering, status transitions, edits with a version check,
  work log.
- `chats`: the chat's life: request, queue, accept, messages (group commit), close, abandon,
  idle time-out, transfer, rating, transcript.
- `chat_access`: who may see or act on a chat over the realtime channel.
- `people`: persons, accounts, person groups and chat-queue membership.
- `presence`: which agents have a console open, across server processes.
- `worklist`: what an agent may see (My work, SR access, pickers) and his preferences.
- `canned`: canned responses (placeholders, shortcuts, language variants, the `/` list).
- `notes`: internal notes and whispers in a chat, never sent to its end user.
- `supervision`: managers watching, joining and taking over live chats.
- `stats`: the manager dashboard's figures (all-time SR counts from a folded tally).
- `search`: SRs, chats and persons by number or words, served by indexes on PostgreSQL.
- `tokens`, `validation`, `settings`, `errors` (the `DeskError` family): the plumbing of rules.
"""

"""Outgoing mail, apart from the desk's rules.

- `compose`: renders a message from its templates and writes it to the outbox table in the
  caller's transaction (the desk decides *when*: an SR resolved, a transcript asked for).
- `sender`: sends the outbox (claims each row so it goes out once, retries with back-off),
  as a task in every server process or as `flask --app wsgi send-mail --loop`.
- `transport`: how a built message leaves: SMTP, or an .eml file when no server is set.
"""

"""Files as bytes: what a file is by its content (`inspection`) and where it is kept
(`storage`). The rules about who sends and sees which file live in `app.desk.attachments`."""

"""The resident daemon: keeps the model loaded and its prefix cache warm, and serves the same `Session` events
to every front end over a Unix socket (newline-delimited JSON; see `protocol`)."""

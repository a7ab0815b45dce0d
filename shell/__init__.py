"""Front ends: one-shot and pipe (llmos-ask); the TUI, overlay and REPL come later. They render Session events."""

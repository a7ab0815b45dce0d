"""The Textual front ends: the full-screen TUI (`llmos`, `llmos tui`) and the inline overlay (`llmos overlay`)."""

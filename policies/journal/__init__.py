"""The undo journal: every mutating file action is recorded before it happens and can be reversed.

Modules: `store` (the Journal: entries, manifests, undo), `manifest` (the typed record of one action), `fileops`
(the journaled file operations tools call), `fs` (fd-relative file system primitives), `move` (moves and copies into
and out of the trash), `undo` (reversing one step), `repair` (finishing or rolling back what a crash interrupted),
`safe_open` (opening paths without following symlinks an attacker could swap in).
"""

from llmos.policies.journal.fileops import FileOps
from llmos.policies.journal.fs import JournalError, NothingToUndo, UnknownUndoTarget
from llmos.policies.journal.store import Journal, JournalEntry, UndoReport

__all__ = ["FileOps", "Journal", "JournalEntry", "JournalError", "NothingToUndo", "UndoReport", "UnknownUndoTarget"]

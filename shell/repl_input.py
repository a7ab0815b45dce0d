"""What the REPL's input line knows: its `/` commands, completion (commands, and paths for the word under the
cursor), the request history shared with the TUI, and the keys for multi-line requests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from llmos.shell.history import InputHistory
from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.history import History
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent


@dataclass(frozen=True)
class SlashCommand:
    name: str
    arguments: str
    summary: str


SLASH_COMMANDS = (
    SlashCommand("/undo", "[ID]", "reverse the last request, or the action or request ID (as `llmos undo`)"),
    SlashCommand("/log", "[N]", "the last N audit records, 10 unless given (as `llmos log`)"),
    SlashCommand("/policy", "[NAME]", "the policy profile in use; with NAME, switch to that profile"),
    SlashCommand("/model", "[NAME]", "the model in use; with NAME, load that model instead"),
    SlashCommand("/help", "", "this list, and the keys"),
    SlashCommand("/clear", "", "clear the screen"),
    SlashCommand("/quit", "", "leave (Ctrl+D does too)"),
)
SLASH_COMMAND_NAMES = frozenset(command.name for command in SLASH_COMMANDS)


def slash_command_of(line: str) -> tuple[str, str] | None:
    """(command, argument text) when `line` is a `/` command; None for a request, which may well start with
    a path such as `/etc/hosts`. A `/word` with no second slash is taken as a command (known or not), so a
    mistyped `/undo` is reported instead of being sent to the model."""
    stripped = line.strip()
    first_word, _, argument_text = stripped.partition(" ")
    if not first_word.startswith("/") or "/" in first_word[1:] or "\n" in first_word:
        return None
    return first_word, argument_text.strip()


class SharedHistory(History):
    """prompt_toolkit's view of `InputHistory`, the request history file the TUI and overlay also use.
    `/` commands are recalled within this REPL but not stored: the file holds requests only."""

    def __init__(self, requests: InputHistory) -> None:
        super().__init__()
        self.requests = requests

    def load_history_strings(self) -> Iterable[str]:
        # prompt_toolkit wants the newest first.
        return list(reversed(self.requests.entries))

    def store_string(self, string: str) -> None:
        if slash_command_of(string) is None:
            self.requests.append(string)


class ReplCompleter(Completer):
    """`/` commands at the start of the line; paths for the word under the cursor when it looks like one
    (has a slash, or starts with `~` or `.`)."""

    def __init__(self) -> None:
        self.paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        text_before_cursor = document.text_before_cursor
        if slash_command_of(text_before_cursor) is not None and " " not in text_before_cursor.lstrip():
            typed = text_before_cursor.lstrip()
            matching = [command for command in SLASH_COMMANDS if command.name.startswith(typed)]
            for command in matching:
                yield Completion(command.name, start_position=-len(typed), display_meta=command.summary)
            if matching:
                return
        word = document.get_word_before_cursor(WORD=True)
        if _looks_like_path(word):
            # PathCompleter reads the whole document as one path: hand it just the word.
            yield from self.paths.get_completions(Document(word), complete_event)


def _looks_like_path(word: str) -> bool:
    return "/" in word or word.startswith(("~", "."))


def request_key_bindings() -> KeyBindings:
    """Enter sends; Alt+Enter (Esc, Enter) starts a new line, and so does Enter after a trailing backslash
    (the backslash is dropped, as a shell drops it)."""
    bindings = KeyBindings()

    @bindings.add("enter")
    def send_or_continue(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.document.is_cursor_at_the_end and buffer.text.endswith("\\"):
            buffer.delete_before_cursor(1)
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @bindings.add("escape", "enter")
    def new_line(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return bindings

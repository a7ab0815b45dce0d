"""`llmos shell-init bash|zsh|fish`: the rc-file snippet that binds Alt+M so the request typed on the command
line is replaced by a suggested shell command (`llmos suggest`), for the person to read, edit and run; on an
empty line the key opens the overlay (`llmos overlay`).

The snippet never evaluates the line: it is passed to `llmos suggest` as one quoted argument after `--`, and
the suggestion is put back as text. Nothing runs until the person presses Enter. When `llmos suggest` fails
the line stays as typed and the error is shown.
"""

from __future__ import annotations

import re
import shlex

KEY_NAME = "Alt+M"
"""Chosen because it is unbound in the default emacs and vi-insert keymaps of bash 5, zsh 5 and fish 3, where
the nearby candidates are taken: Alt+L is downcase-word (bash, zsh) and lists the directory (fish), Alt+G is
glob-complete-word (bash) and get-line (zsh), Ctrl+G is abort, Ctrl+L clears the screen, Ctrl+R searches
history, Ctrl+X is the prefix of bash's and zsh's own bindings and copies in fish, and Alt+H/J/K/L are often
taken by tmux or window managers for moving between panes."""

_COMMENT = f"""\
# llmos: {KEY_NAME} turns the request typed on the command line into a shell command (llmos suggest), which
# replaces the line for you to read, edit and run; nothing runs until you press Enter. On an empty line,
# {KEY_NAME} opens the llmos overlay. If llmos fails, the line stays as typed and the error is shown.
# {KEY_NAME}: unbound by default in bash, zsh and fish (Alt+L is downcase-word, Alt+G glob-complete-word,
# Ctrl+G abort, Ctrl+L clear-screen, Ctrl+R history search; Ctrl+X is a prefix). To use another key, change
# the sequence in the bind lines at the end."""

# Every snippet uses a temp file for llmos's error output, so it can be shown after the line is redrawn (or,
# in zsh, as a message under the line) instead of scribbling over the line being edited.

_BASH = r"""
__llmos_cli() { command @LLMOS@ "$@"; }

__llmos_line_to_command() {
    if ! command -v @LLMOS@ >/dev/null 2>&1; then
        printf 'llmos: %s is not on PATH\n' @LLMOS@ >&2
        return
    fi
    if [[ -z ${READLINE_LINE//[[:space:]]/} ]]; then
        __llmos_cli overlay
        return
    fi
    local errors_file suggestion suggest_status
    errors_file=$(mktemp -t llmos-suggest.XXXXXX) || return
    # A hint while the model works; cleared before readline redraws the line.
    printf '\r\033[K%s' 'llmos: suggesting a command...' >&2
    suggestion=$(__llmos_cli suggest -- "$READLINE_LINE" </dev/null 2>"$errors_file")
    suggest_status=$?
    printf '\r\033[K' >&2
    # 0: a command; 3: denied by policy, printed as a comment, which is inert only while comments work.
    if [[ -n $suggestion && $suggestion != *$'\n'* ]] && {
        (( suggest_status == 0 )) || { (( suggest_status == 3 )) && shopt -q interactive_comments; }
    }; then
        READLINE_LINE=$suggestion
        READLINE_POINT=${#READLINE_LINE}
    elif [[ -n $suggestion || -s $errors_file ]]; then
        [[ -n $suggestion ]] && printf '%s\n' "$suggestion" >&2
        cat -- "$errors_file" >&2
    else
        printf 'llmos: `llmos suggest` failed (exit %s)\n' "$suggest_status" >&2
    fi
    command rm -f -- "$errors_file"
}

bind -m emacs -x '"\em": __llmos_line_to_command'
bind -m vi-insert -x '"\em": __llmos_line_to_command'
"""

_ZSH = r"""
__llmos_line_to_command() {
    emulate -L zsh
    if ! command -v @LLMOS@ >/dev/null 2>&1; then
        zle -M "llmos: "@LLMOS@" is not on PATH"
        return 1
    fi
    if [[ -z ${BUFFER//[[:space:]]/} ]]; then
        zle -I
        command @LLMOS@ overlay </dev/tty
        zle reset-prompt
        return
    fi
    local errors_file suggestion suggest_status
    errors_file=$(mktemp -t llmos-suggest.XXXXXX) || return 1
    zle -M 'llmos: suggesting a command...'
    zle -R
    suggestion=$(command @LLMOS@ suggest -- "$BUFFER" </dev/null 2>"$errors_file")
    suggest_status=$?
    # 0: a command; 3: denied by policy, printed as a comment, which is inert only with interactive_comments
    # (off by default in zsh: without it `#` is a command name and a `;` in the rest would run).
    if [[ -n $suggestion && $suggestion != *$'\n'* ]] && {
        (( suggest_status == 0 )) || { (( suggest_status == 3 )) && [[ -o interactive_comments ]]; }
    }; then
        BUFFER=$suggestion
        CURSOR=${#BUFFER}
        zle -M ''
    else
        local message=$(<"$errors_file")
        [[ -n $suggestion ]] && message="$suggestion${message:+$'\n'}$message"
        zle -M "${message:-llmos: \`llmos suggest\` failed (exit $suggest_status)}"
    fi
    command rm -f -- "$errors_file"
}

zle -N __llmos_line_to_command
bindkey -M emacs '^[m' __llmos_line_to_command
bindkey -M viins '^[m' __llmos_line_to_command
"""

_FISH = r"""
function __llmos_line_to_command --description 'llmos: the request on the command line becomes a shell command'
    if not command -q @LLMOS@
        printf '\nllmos: %s is not on PATH\n' @LLMOS@ >&2
        commandline -f repaint
        return
    end
    set -l request (commandline | string collect)
    if not string match -qr '\S' -- $request
        command @LLMOS@ overlay </dev/tty
        commandline -f repaint
        return
    end
    set -l errors_file (mktemp -t llmos-suggest.XXXXXX)
    or return
    # A hint while the model works; the repaint afterwards redraws the prompt over it.
    printf '\r\033[K%s' 'llmos: suggesting a command...' >&2
    set -l suggestion (command @LLMOS@ suggest -- $request </dev/null 2>$errors_file)
    set -l suggest_status $status
    printf '\r\033[K' >&2
    # 0: a command; 3: denied by policy, printed as a comment (always inert in fish).
    if test (count $suggestion) -eq 1; and test -n "$suggestion"; and contains -- $suggest_status 0 3
        commandline -r -- $suggestion
        commandline -C (string length -- $suggestion)
    else if test (count $suggestion) -gt 0; or test -s $errors_file
        printf '\n' >&2
        test (count $suggestion) -gt 0; and printf '%s\n' $suggestion >&2
        cat -- $errors_file >&2
    else
        printf '\nllmos: `llmos suggest` failed (exit %s)\n' $suggest_status >&2
    end
    command rm -f -- $errors_file
    commandline -f repaint
end

bind \em __llmos_line_to_command
bind -M insert \em __llmos_line_to_command
"""

_PLAIN_WORD = re.compile(r"[\w@%+=:,./-]+", re.ASCII)
"""A word every shell reads as itself (shlex's own test), so it needs no quotes."""

SNIPPETS = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}
INSTALL_LINES = {
    "bash": 'eval "$(llmos shell-init bash)"    # in ~/.bashrc',
    "zsh": 'eval "$(llmos shell-init zsh)"     # in ~/.zshrc',
    "fish": "llmos shell-init fish | source     # in ~/.config/fish/config.fish",
}


def snippet_for(shell: str, llmos_command: str | None = None) -> str:
    """The snippet for `shell` (bash, zsh or fish). It finds `llmos` on PATH, unless `llmos_command` names
    the executable to call (a path is quoted for that shell)."""
    if shell not in SNIPPETS:
        raise ValueError(f"no snippet for {shell!r}; choose one of {', '.join(SNIPPETS)}")
    quoted_command = _quote(shell, llmos_command or "llmos")
    header = f"{_COMMENT}\n# Install: {INSTALL_LINES[shell]}"
    return header + SNIPPETS[shell].replace("@LLMOS@", quoted_command).rstrip("\n")


def _quote(shell: str, word: str) -> str:
    if shell == "fish" and not _PLAIN_WORD.fullmatch(word):
        # fish's single quotes treat backslash and quote as escapes, unlike POSIX shells.
        return "'" + word.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return shlex.quote(word)

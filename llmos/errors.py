"""Errors that front ends turn into one clear line and an exit code, never a traceback."""

from __future__ import annotations


class LlmosError(Exception):
    """An error whose message is fit to show a person as it is."""

    exit_code = 1


class UsageError(LlmosError):
    """Bad input or configuration: exit 2."""

    exit_code = 2


class ModelError(UsageError):
    """The model cannot be found, assembled, verified or loaded."""

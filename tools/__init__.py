"""Typed tools the model may call, and their registry. Importing this package registers the built-in tools."""

from llmos.tools.registry import DEFAULT_REGISTRY, Registry, ToolError, ToolResult, ToolSpec, tool

__all__ = ["DEFAULT_REGISTRY", "Registry", "ToolError", "ToolResult", "ToolSpec", "tool", "load_builtin_tools"]


def load_builtin_tools() -> Registry:
    """Import the built-in tool modules (each registers itself) and return the default registry."""
    from llmos.tools import (  # noqa: F401  (registration is the import's effect)
        answer,
        files,
        files_archive,
        files_change,
        health,
        process,
        process_control,
        shell,
        system,
    )

    return DEFAULT_REGISTRY

"""Typed tools the model may call, and their registry. `load_builtin_tools` builds the registry of the built-in
tools from their one list (`llmos.tools.builtin`)."""

from llmos.tools.registry import Registry, ToolError, ToolResult, ToolSpec, tool

__all__ = ["Registry", "ToolError", "ToolResult", "ToolSpec", "tool", "load_builtin_tools"]


def load_builtin_tools() -> Registry:
    """A registry of the built-in tools, in the order the model sees them (`llmos.tools.builtin.BUILTIN_TOOLS`)."""
    # Imported here: the tool modules import llmos.tools.registry, which runs this package first.
    from llmos.tools.builtin import builtin_registry

    return builtin_registry()

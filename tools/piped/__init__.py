"""Piped stdin as a document: spooled (`PipedDocument`), read redacted (`DocumentView`), offered to the model as
read-only stdin tools (`piped_tools`) and shown in the prompt as a token-budgeted excerpt (`stdin_excerpt`)."""

from llmos.tools.piped.document import BinaryInputError, PipedDocument
from llmos.tools.piped.excerpt import Excerpt, stdin_excerpt
from llmos.tools.piped.sql import PipedTable
from llmos.tools.piped.tools import piped_tool_names, piped_tools
from llmos.tools.piped.view import DocumentView, Redactor

__all__ = [
    "BinaryInputError", "DocumentView", "Excerpt", "PipedDocument", "PipedTable", "Redactor", "piped_tool_names",
    "piped_tools",
    "stdin_excerpt",
]

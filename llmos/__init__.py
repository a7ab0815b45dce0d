"""llmos: a local-first natural-language shell assistant."""

__version__ = "0.1.0"

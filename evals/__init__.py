"""The evaluation suite: natural-language tasks with fixtures and outcome checks, the runner that scores llmos
(and a plain llama-cpp-python tool-calling baseline) on them, and the report."""

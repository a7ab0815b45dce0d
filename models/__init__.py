"""llmos.models: model registry, resolve/assemble/verify of GGUF files, and the llama.cpp backend.

Kept empty on purpose: importing the package must stay cheap and headless, so callers import the submodule
they need (`llmos.models.resolve`, `llmos.models.registry`, ...), never a heavy backend by accident.
"""

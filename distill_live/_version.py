"""The version of distill_live, in a module of its own.

Modules that record or report the version (the model file header, the recording sidecar,
OSCQuery) import it from here rather than from the package's ``__init__``, so that they do
not depend on everything the package re-exports. It imports nothing.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"

"""Engine settings shared by the live engine and the offline render.

Constants only, so that :mod:`distill_live.engine.render` and the command line can read them
without importing the live engine (:mod:`distill_live.engine.engine`), its ring or its audio
process. It may import nothing from distill_live.
"""

from __future__ import annotations

__all__ = ["DEFAULT_LOOKAHEAD_MS"]

#: Audio kept queued ahead of the play position (protects against scheduling hiccups; a
#: control change does not wait for it, see the safety margin).
DEFAULT_LOOKAHEAD_MS = 250.0

"""Weights in the layouts the streaming steps multiply by, and when to rebuild them.

The prior's :meth:`~distill_live.model.prior.Prior.step` and the pitched decoder's step run
one frame at a time, where a matrix-vector product is fastest with the weight stored
(in, out) and contiguous (``addmm``), not as ``nn.Linear`` keeps it (out, in). Each module
keeps such copies and rebuilds them when a parameter they come from has changed:
:func:`param_versions` is the key.
"""

from __future__ import annotations

from torch import Tensor

__all__ = ["param_versions"]


def param_versions(params: list[Tensor]) -> list[tuple[int, int]]:
    """Each tensor's storage and version: what changes when it is moved or written in place
    (an optimiser step, ``load_state_dict``, ``.to``); an inference tensor has no version
    (one made under inference_mode is never trained)."""
    return [(p.data_ptr(), -1 if p.is_inference() else p._version) for p in params]

"""Weights and inputs in the layouts the streaming steps multiply, and when to rebuild them.

The prior's :meth:`~distill_live.model.prior.Prior.step` and the pitched decoder's step run
one frame at a time, where a matrix-vector product is fastest with the weight stored
(in, out) and contiguous (``addmm``), not as ``nn.Linear`` keeps it (out, in). Each module
keeps such copies and rebuilds them when a parameter they come from has changed:
:func:`param_versions` is the key.
"""

from __future__ import annotations

from torch import Tensor

__all__ = ["conv_windows", "param_versions"]


def param_versions(params: list[Tensor]) -> list[tuple[int, int]]:
    """Each tensor's storage and version: what changes when it is moved or written in place
    (an optimiser step, ``load_state_dict``, ``.to``); an inference tensor has no version
    (one made under inference_mode is never trained)."""
    return [(p.data_ptr(), -1 if p.is_inference() else p._version) for p in params]


def conv_windows(x: Tensor, k: int) -> Tensor:
    """A causal convolution's inputs as rows for one product with its (k * C, out) weight:
    x (B, k - 1 + n, C) → (B * n, k * C), each output frame's k inputs side by side, oldest
    first (a view when n == 1, one copy otherwise)."""
    b, t, c = x.shape
    n = t - k + 1
    if n == 1:
        return x.reshape(b, k * c)
    return x.unfold(1, k, 1).transpose(2, 3).reshape(b * n, k * c)  # (B, n, C, k) → rows

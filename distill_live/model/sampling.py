"""Sampling codes from the prior: temperature, top-k and top-p, per codebook.

Order (applied independently to each codebook's distribution over its V codes):

1. **temperature**: logits / T. A temperature below :data:`GREEDY_TEMPERATURE` means greedy
   decoding (argmax); it is never used as a divisor.
2. **top-k**: keep the ``top_k`` most likely codes (``0`` = off; ``top_k >= V`` keeps all).
   Codes tied with the k-th are kept too.
3. **top-p** (nucleus), on what top-k kept: renormalise the kept codes and keep the smallest
   set of the most likely ones whose probability reaches ``top_p`` (``1.0`` = off; ``0.0``
   keeps only the most likely code). A set whose mass falls short of ``top_p`` by less than
   :data:`TOP_P_TOLERANCE` counts as reaching it, so float rounding cannot add a code.

At least one code always survives, and a removed code can never be drawn: the draw is the
exponential race (Gumbel-max) on the filtered logits, not ``torch.multinomial`` (which can
return a zero-probability index on the CPU, pytorch issues 48841 and 50034).

Users arrive with two conventions. Hugging Face ``transformers`` composes the filters exactly
as here (temperature → top-k → top-p; ``top_k=0`` and ``top_p=1.0`` disable; ``top_p=0``
keeps one token). Meta's audiocraft lets top-p *replace* top-k when ``top_p > 0`` and treats
``top_p=0`` as "off". Here the two filters always compose, neither replaces the other, and
``top_p=0`` means "only the most likely code". To get audiocraft's top-p-only sampling, set
``top_k=0``.

The parameters travel as one :class:`SamplingParams`, checked when it is made: temperature
0..:data:`MAX_TEMPERATURE` (0 = greedy), top-k 0..:data:`MAX_TOP_K` (a whole number), top-p
0..1. Out-of-range values raise :class:`~distill_live.errors.SamplingError` naming the value
and the range. The live controls (:data:`distill_live.params.PARAMS`) are clamped to ranges
inside these. The same seeded ``torch.Generator`` and the same starting state give the same
codes.

This module belongs to the model: it imports torch, the prior's types and
:mod:`distill_live.errors`; never the control table or anything above the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from ..errors import SamplingError

if TYPE_CHECKING:
    from .prior import Prior, PriorState

__all__ = [
    "GREEDY_TEMPERATURE",
    "TOP_P_TOLERANCE",
    "MAX_TEMPERATURE",
    "MAX_TOP_K",
    "SamplingParams",
    "filter_logits",
    "sample_from_logits",
    "sample_code_sequence",
]

#: Temperatures below this mean greedy decoding (argmax).
GREEDY_TEMPERATURE = 1e-4
#: Slack on the top-p mass so that float rounding of the cumulative sum cannot keep a code.
TOP_P_TOLERANCE = 1e-6


#: The highest temperature accepted.
MAX_TEMPERATURE = 2.0
#: The largest top-k accepted (``top_k`` at or above the codebook size keeps every code).
MAX_TOP_K = 512
# the smallest exponential draw used: E = 0 (log -inf) would make a removed code's -inf NaN,
# which argmax takes
_TINY = float(torch.finfo(torch.float32).tiny)


def _checked(name: str, value: object, hi: float, whole: bool = False, note: str = "") -> float:
    """``value`` as a float in 0..hi; :class:`SamplingError` naming it and the range."""
    span = f"0..{hi:g}{note}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SamplingError(f"{name} must be a number in {span}, got {value!r}")
    x = float(value)
    if not math.isfinite(x) or not 0.0 <= x <= hi:
        raise SamplingError(f"{name} must be in {span}, got {value!r}")
    if whole and not x.is_integer():
        raise SamplingError(f"{name} must be a whole number in {span}, got {value!r}")
    return x


@dataclass(frozen=True)
class SamplingParams:
    """Temperature, top-k and top-p, checked when made (see the module docstring).

    >>> SamplingParams(temperature=0.8, top_k=40).top_p
    1.0

    Raises :class:`~distill_live.errors.SamplingError` naming the value and the range.
    Values are stored as ``float``, ``int``, ``float``.
    """

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0

    def __post_init__(self) -> None:
        t = _checked("temperature", self.temperature, MAX_TEMPERATURE, note=" (0 = greedy)")
        k = _checked("top_k", self.top_k, MAX_TOP_K, whole=True, note=" (0 = off)")
        p = _checked("top_p", self.top_p, 1.0, note=" (1 = off)")
        object.__setattr__(self, "temperature", t)
        object.__setattr__(self, "top_k", int(k))
        object.__setattr__(self, "top_p", p)

    @property
    def greedy(self) -> bool:
        """Whether these parameters keep only the most likely code."""
        return self.temperature < GREEDY_TEMPERATURE or self.top_k == 1 or self.top_p == 0.0


def _params(sampling: object) -> SamplingParams:
    if not isinstance(sampling, SamplingParams):
        raise TypeError(f"sampling must be a SamplingParams, got {type(sampling).__name__}")
    return sampling


def filter_logits(logits: Tensor, sampling: SamplingParams) -> Tensor:
    """Apply temperature, then top-k, then top-p along the last dimension.

    logits (..., V) -> filtered logits (..., V): scaled by 1 / temperature, removed codes set
    to -inf; ``softmax`` of the result is the sampling distribution. Greedy (temperature below
    :data:`GREEDY_TEMPERATURE`) returns 0 for the argmax and -inf elsewhere. Never removes
    every code. Pure: ``logits`` is not modified.
    """
    sp = _params(sampling)
    out = _filter(logits, sp.temperature, sp.top_k, sp.top_p)
    return out.clone() if out is logits else out  # a new tensor, as every other setting


def _nucleus(sorted_x: Tensor, top_p: float) -> Tensor:
    """Which of the descending ``sorted_x`` (..., N) top-p removes: (..., N) bool."""
    probs = torch.softmax(sorted_x, dim=-1)
    mass_before = torch.cumsum(probs, dim=-1) - probs  # mass of the more likely codes
    remove = mass_before >= top_p - TOP_P_TOLERANCE
    remove[..., 0] = False  # always keep the most likely code
    return remove


def _filter(logits: Tensor, temperature: float, top_k: int, top_p: float) -> Tensor:
    """:func:`filter_logits` on parameters already checked; ``logits`` itself where nothing
    filters (temperature 1, no top-k, no top-p)."""
    v = logits.shape[-1]
    if temperature < GREEDY_TEMPERATURE:
        idx = logits.argmax(dim=-1, keepdim=True)
        out = torch.full_like(logits, float("-inf"))
        return out.scatter_(-1, idx, 0.0)
    x = logits / temperature if temperature != 1.0 else logits
    if 0 < top_k < v:
        top_x, top_i = torch.topk(x, top_k, dim=-1)  # (..., k), descending
        kth = top_x[..., -1:]
        if top_p < 1.0 and not bool((x == kth).sum(-1).gt(1).any()):
            # no tie at the k-th code, so top-k kept exactly top_x: top-p on those k alone
            # (the same codes as sorting all V, at a fraction of the cost)
            top_x = top_x.masked_fill(_nucleus(top_x, top_p), float("-inf"))
            return torch.full_like(x, float("-inf")).scatter_(-1, top_i, top_x)
        x = x.masked_fill(x < kth, float("-inf"))
    if top_p < 1.0:
        sorted_x, order = torch.sort(x, dim=-1, descending=True)
        remove = torch.zeros_like(sorted_x, dtype=torch.bool)
        remove.scatter_(-1, order, _nucleus(sorted_x, top_p))
        x = x.masked_fill(remove, float("-inf"))
    return x


def sample_from_logits(
    logits: Tensor,
    sampling: SamplingParams = SamplingParams(),  # noqa: B008 - frozen, immutable
    generator: torch.Generator | None = None,
) -> Tensor:
    """Draw one code per row: logits (..., V) -> codes (...) long, filtered as in
    :func:`filter_logits`."""
    sp = _params(sampling)
    return _sample(logits, sp.temperature, sp.top_k, sp.top_p, generator)


def _sample(
    logits: Tensor,
    temperature: float,
    top_k: int,
    top_p: float,
    generator: torch.Generator | None,
) -> Tensor:
    """:func:`sample_from_logits` on parameters already checked.

    The draw is the exponential race (the Gumbel-max trick): the code with the largest
    ``x - log(E)``, E ~ Exp(1) one per code, is distributed as ``softmax(x)``. One pass
    with no normalisation or checks, and a removed code (-inf) can never win.
    ``torch.multinomial`` draws one sample the same way (the argmax of p / E over the same
    exponential draws), so a seed gives the codes it gave (docs/experiments.md, "The
    sampler's own costs")."""
    if temperature < GREEDY_TEMPERATURE or top_k == 1 or top_p == 0.0:
        return logits.argmax(dim=-1)  # the only code any of these filters keeps
    x = _filter(logits, temperature, top_k, top_p).float()
    e = torch.empty_like(x).exponential_(generator=generator).clamp_min_(_TINY)
    return (x - e.log_()).argmax(dim=-1)


def sample_code_sequence(
    prior: Prior,
    state: PriorState,
    n_frames: int,
    *,
    sampling: SamplingParams = SamplingParams(),  # noqa: B008 - frozen, immutable
    generator: torch.Generator | Sequence[torch.Generator] | None = None,
    pitch_mask: Tensor | None = None,
) -> tuple[Tensor, PriorState]:
    """Sample ``n_frames`` code frames, continuing from ``state``.

    Returns codes (B, K, n_frames) long and the state (updated in place; the last sampled
    frame is kept in ``state.last_tokens`` and fed first by the next call, so consecutive
    calls continue one stream). A fresh state starts from BOS.

    ``generator`` may be one ``torch.Generator`` for the whole batch or a sequence of B, one
    per batch row (independent seeded streams that share each prior step: the weights are
    read once for all rows, so B streams cost little more than one).

    ``sampling`` holds temperature, top-k and top-p (checked when it was made).

    ``pitch_mask`` (V,) bool, if given, is the set of codebook-0 codes that may be drawn (a
    held key steers a pitched model): the others' logits are removed before temperature,
    top-k and top-p, which then act among the allowed codes. With a depth prior the other
    codebooks are drawn given that code.
    """
    sp = _params(sampling)
    temperature, top_k, top_p = sp.temperature, sp.top_k, sp.top_p
    if n_frames < 0:
        raise ValueError(f"n_frames must be >= 0, got {n_frames}")
    b, k = state.batch, prior.config.n_codebooks
    per_row = generator is not None and not isinstance(generator, torch.Generator)
    if per_row and len(generator) != b:  # type: ignore[arg-type]
        raise ValueError(
            f"got {len(generator)} generators for a batch of {b}; give one per row or one"  # type: ignore[arg-type]
        )
    with torch.inference_mode():
        codes = torch.empty((b, k, n_frames), dtype=torch.long)
        tokens = state.last_tokens
        depth = prior.config.depth
        w = prior._step_weights()  # once: the weights cannot change during the loop
        for i in range(n_frames):
            logits, state = prior._step(tokens, state, depth, w)  # (B, K or 1, V)
            if pitch_mask is not None:
                logits = logits.clone()
                logits[:, 0] = logits[:, 0].masked_fill(~pitch_mask, float("-inf"))
            if depth:  # codebook j given the codes 0..j-1 just drawn
                drawn: list[Tensor] = []  # (B,) each
                u = state.hidden  # (B, D) plus the embeddings of the codes drawn so far
                assert u is not None
                for j in range(k):
                    if j == 0:
                        lj = logits[:, 0]
                    else:
                        u = prior._depth_add(u, drawn[-1], j - 1, w)
                        lj = prior._depth_logits(u, j, w)
                    if per_row:
                        drawn.append(
                            torch.cat(
                                [
                                    _sample(lj[r : r + 1], temperature, top_k, top_p, g)
                                    for r, g in enumerate(generator)  # type: ignore[arg-type]
                                ]
                            )
                        )
                    else:
                        drawn.append(_sample(lj, temperature, top_k, top_p, generator))  # type: ignore[arg-type]
                tokens = torch.stack(drawn, 1)  # (B, K)
            elif per_row:
                tokens = torch.cat(
                    [
                        _sample(logits[r : r + 1], temperature, top_k, top_p, g)
                        for r, g in enumerate(generator)  # type: ignore[arg-type]
                    ]
                )  # (B, K)
            else:
                tokens = _sample(logits, temperature, top_k, top_p, generator)  # type: ignore[arg-type]
            codes[:, :, i] = tokens
        state.last_tokens = tokens
    return codes, state

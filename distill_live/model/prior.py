"""The prior: an autoregressive transformer over code frames.

One step per code *frame*: the K codes of a frame are embedded (one table per codebook) and
summed into one input vector, and K parallel heads predict the K codes of the next frame. The
codebooks of one frame are therefore sampled independently given the past (no flattening into
K steps a frame: several times faster, docs/experiments.md). With
``depth=True`` a small depth stage (a residual MLP over the frame's hidden state plus the
summed embeddings of the codes already drawn) predicts the K codes one after another, for
codecs whose codes within a frame depend on each other (a packed codec's sub-frames).

Positions are relative (ALiBi: a per-head linear penalty on the distance between query and
key), and each layer attends to the last ``window`` inputs only (so the whole stack sees
``n_layers * (window - 1) + 1`` frames back). Together these make streaming endless: the KV
cache is a preallocated ring of ``window`` slots per layer that never grows, and the logits
of step ``n`` do not depend on ``n`` itself.

``forward`` is the training path and the reference for ``step``: input position 0 is a
learned BOS vector, position t >= 1 is frame t - 1, and the output at position t predicts
frame t from the inputs in ``(t - window, t]`` (a banded causal mask). Feeding the same
inputs one at a time through ``step`` gives the same logits, past the wrap of the ring too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layouts import param_versions

__all__ = ["PriorConfig", "PriorState", "PriorMark", "Prior"]


@dataclass(frozen=True)
class PriorConfig:
    """Hyper-parameters of :class:`Prior`.

    ``n_codebooks`` and ``codebook_size`` must match the codec; :func:`build_model` copies
    them from the codec's config.
    """

    n_codebooks: int = 8
    codebook_size: int = 256
    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 4
    ff_mult: int = 3  # feed-forward hidden size = ff_mult * d_model
    window: int = 128  # frames each layer attends to (KV cache length); the stack sees
    # n_layers * (window - 1) + 1 frames (4 x 127 + 1 = 509 frames, 10.9 s at hop 1024)
    dropout: float = 0.1
    # False: the K codes of a frame are drawn independently given the past. True: one after
    # another (a depth stage: a residual MLP over the frame's hidden state plus embeddings of
    # the codes already drawn), for codecs whose codes within a frame depend on each other
    # (CodecConfig.pack > 1: the sub-frames of a frame).
    depth: bool = False

    def __post_init__(self) -> None:
        for name in ("n_codebooks", "codebook_size", "d_model", "n_layers", "n_heads"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"PriorConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.d_model % self.n_heads:
            raise ValueError(
                f"PriorConfig.d_model ({self.d_model}) must be divisible by "
                f"n_heads ({self.n_heads})"
            )
        if self.window < 2:
            raise ValueError(f"PriorConfig.window must be >= 2 frames, got {self.window}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"PriorConfig.dropout must be in [0, 1), got {self.dropout}")
        if not isinstance(self.depth, bool):
            raise ValueError(f"PriorConfig.depth must be true or false, got {self.depth!r}")

    @classmethod
    def tiny(cls, n_codebooks: int = 2, codebook_size: int = 16) -> PriorConfig:
        """A very small prior for unit tests (a short window so tests cross the ring wrap)."""
        return cls(
            n_codebooks=n_codebooks,
            codebook_size=codebook_size,
            d_model=32,
            n_layers=2,
            n_heads=2,
            ff_mult=2,
            window=8,
            dropout=0.0,
        )


@dataclass
class PriorState:
    """Everything the prior needs to continue a stream; fixed size whatever its length.

    ``k``/``v`` are ring buffers of shape (L, B, H, W, Dh); input position ``n`` lives in slot
    ``n % W``. ``pos`` counts the inputs fed so far. ``last_tokens`` (B, K) holds codes that
    were sampled but not yet fed back (``sample_code_sequence`` feeds them first on its next
    call); ``None`` means none are pending (a fresh state starts from BOS).
    :meth:`Prior.step` updates the state in place and returns it; use :meth:`clone` for a
    snapshot.
    """

    k: Tensor
    v: Tensor
    pos: int = 0
    last_tokens: Tensor | None = None
    hidden: Tensor | None = None  # (B, D) the last step's output, for a depth prior

    @property
    def batch(self) -> int:
        return int(self.k.shape[1])

    def clone(self) -> PriorState:
        return PriorState(
            k=self.k.clone(),
            v=self.v.clone(),
            pos=self.pos,
            last_tokens=None if self.last_tokens is None else self.last_tokens.clone(),
            hidden=None if self.hidden is None else self.hidden.clone(),
        )

    def mark(self, steps: int) -> PriorMark:
        """What :meth:`restore` needs to bring this state back here after at most ``steps``
        more steps: the position, the pending codes, and only the ring slots those steps
        overwrite (a step writes one slot per layer), not the whole cache. Marks taken at
        successive points undo a run of steps when restored newest first."""
        w = int(self.k.shape[3])
        n, first = min(steps, w), self.pos % w
        with torch.inference_mode():
            if first + n <= w:  # one run of slots (a one-step mark always): two slices
                k = self.k[:, :, :, first : first + n].clone()
                v = self.v[:, :, :, first : first + n].clone()
            else:
                slots = torch.arange(self.pos, self.pos + n) % w  # (N,)
                k, v = self.k.index_select(3, slots), self.v.index_select(3, slots)
        return PriorMark(
            pos=self.pos,
            k=k,
            v=v,
            last_tokens=None if self.last_tokens is None else self.last_tokens.clone(),
            hidden=None if self.hidden is None else self.hidden.clone(),
        )

    def restore(self, mark: PriorMark) -> None:
        """Undo the steps since ``mark`` (in place). Every mark taken after it must have been
        restored first, newest first; the mark stays valid for another restore."""
        w, n = int(self.k.shape[3]), int(mark.k.shape[3])
        if self.pos - mark.pos > n and n < w:
            raise ValueError(
                f"the mark at position {mark.pos} covers {n} steps, the state "
                f"is {self.pos - mark.pos} past it: restore the later marks first"
            )
        slots = torch.arange(mark.pos, mark.pos + n) % w  # (N,)
        with torch.inference_mode():  # the cache is made in inference mode
            self.k.index_copy_(3, slots, mark.k)
            self.v.index_copy_(3, slots, mark.v)
        self.pos = mark.pos
        self.last_tokens = None if mark.last_tokens is None else mark.last_tokens.clone()
        self.hidden = None if mark.hidden is None else mark.hidden.clone()


@dataclass(frozen=True)
class PriorMark:
    """A point in a :class:`PriorState`'s stream (:meth:`PriorState.mark`): the ring slots
    (L, B, H, N, Dh) that the next N steps overwrite (from slot ``pos % W`` on), and the
    scalar state."""

    pos: int
    k: Tensor
    v: Tensor
    last_tokens: Tensor | None
    hidden: Tensor | None


def _alibi_slopes(n_heads: int) -> Tensor:
    # the geometric sequence of the ALiBi paper: 2^(-8/H), 2^(-16/H), ...
    return torch.tensor([2.0 ** (-8.0 * (i + 1) / n_heads) for i in range(n_heads)])


class _Block(nn.Module):
    """Pre-norm transformer block; attention weights fused into one qkv projection."""

    def __init__(self, cfg: PriorConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.n_heads = cfg.n_heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, cfg.ff_mult * d)
        self.ff2 = nn.Linear(cfg.ff_mult * d, d)
        self.drop = nn.Dropout(cfg.dropout)
        self.attn_dropout = cfg.dropout

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        # x (B, T, D); bias (H, T, T) additive attention bias (ALiBi + banded causal mask)
        b, t, d = x.shape
        h = self.n_heads
        qkv = self.qkv(self.ln1(x)).view(b, t, 3, h, d // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # (B, H, T, Dh)
        att = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias, dropout_p=self.attn_dropout if self.training else 0.0
        )  # (B, H, T, Dh)
        x = x + self.drop(self.out(att.transpose(1, 2).reshape(b, t, d)))
        x = x + self.drop(self.ff2(F.gelu(self.ff1(self.ln2(x)), approximate="tanh")))
        return x


@dataclass(frozen=True)
class _StepWeights:
    """The weights :meth:`Prior.step` and :meth:`Prior.depth_logits` multiply by, in
    (in, out) layouts, contiguous (:mod:`.layouts`); ``key`` says when to rebuild them."""

    key: list[tuple[int, int]]
    sources: list[Tensor]
    # per block: qkv (D, 3D) (the query's columns scaled by 1/sqrt(Dh)), out (D, D), ff1, ff2
    blocks: list[tuple[Tensor, ...]]
    # per block: ln1 weight, bias, qkv bias (query part scaled as above), out bias, ln2
    # weight, bias, ff1 bias, ff2 bias (held here so the step makes no module lookups)
    vectors: list[tuple[Tensor, ...]]
    eps: float  # the layer norms' epsilon
    ln_f: tuple[Tensor, Tensor]
    head: Tensor  # (K, D, V) each codebook's head; parallel heads: (D, K * V)
    head_bias: Tensor  # (K, 1, V); parallel heads: (K * V,)
    depth_ff1: Tensor | None  # (D, mult * D)
    depth_ff2: Tensor | None  # (mult * D, D)
    depth_vectors: tuple[Tensor, ...] | None  # depth_ln weight, bias, ff1 bias, ff2 bias
    # per codebook j (views, so that the sampler makes no indexing calls): its depth
    # embeddings (V, D), its depth position (D,), its head (D, V) and head bias (V,)
    depth_rows: list[Tensor]
    depth_pos: list[Tensor]
    heads: list[tuple[Tensor, Tensor]]


class Prior(nn.Module):
    """Autoregressive model over code frames; see the module docstring."""

    offsets: Tensor
    slopes: Tensor
    ring_warm: Tensor
    ring_cold: Tensor

    def __init__(self, cfg: PriorConfig) -> None:
        super().__init__()
        self.config = cfg
        k, v, d, w = cfg.n_codebooks, cfg.codebook_size, cfg.d_model, cfg.window
        self.embed = nn.Embedding(k * v, d)  # codebook k's code c is row k * V + c
        self.bos = nn.Parameter(torch.zeros(d))
        self.blocks = nn.ModuleList(_Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, k * v)  # K parallel heads, one (D -> V) block each
        if cfg.depth:
            self.depth_embed = nn.Embedding(k * v, d)  # codes already drawn in the frame
            self.depth_pos = nn.Parameter(torch.zeros(k, d))
            self.depth_ln = nn.LayerNorm(d)
            self.depth_ff1 = nn.Linear(d, cfg.ff_mult * d)
            self.depth_ff2 = nn.Linear(cfg.ff_mult * d, d)
        self.register_buffer("offsets", torch.arange(k) * v, persistent=False)  # (K,)
        slopes = _alibi_slopes(cfg.n_heads)
        self.register_buffer("slopes", slopes, persistent=False)  # (H,)
        # Ring-buffer biases for step(): the query at position n sits in slot r = n % W and
        # slot s holds position n - ((r - s) mod W). ring_warm[r] is the bias once all W slots
        # are filled (n >= W); ring_cold[r] also masks the slots s > r not yet written (n < W).
        r = torch.arange(w).view(w, 1)
        s = torch.arange(w).view(1, w)
        dist = ((r - s) % w).float()  # (W, W)
        warm = -slopes.view(1, -1, 1) * dist.view(w, 1, w)  # (W, H, W)
        cold = warm.masked_fill((s > r).view(w, 1, w), float("-inf"))
        self.register_buffer("ring_warm", warm.contiguous(), persistent=False)
        self.register_buffer("ring_cold", cold.contiguous(), persistent=False)
        self.apply(self._init_weights)
        nn.init.normal_(self.bos, std=0.02)
        self._weights: _StepWeights | None = None  # built by _step_weights

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    # ---------------------------------------------------------------- training / reference
    def attention_bias(self, t: int) -> Tensor:
        """(H, T, T) additive bias of :meth:`forward`: -slope * (i - j) for keys j in
        ``(i - window, i]``, -inf elsewhere."""
        i = torch.arange(t, device=self.slopes.device).view(t, 1)
        j = torch.arange(t, device=self.slopes.device).view(1, t)
        dist = (i - j).float()
        bias = -self.slopes.view(-1, 1, 1) * dist  # (H, T, T)
        allowed = (j <= i) & (j > i - self.config.window)
        return bias.masked_fill(~allowed, float("-inf"))

    def embed_frames(self, codes: Tensor) -> Tensor:
        """codes (B, K, T) long -> (B, T, D): per-codebook embeddings summed over K."""
        self._check_codes(codes, "codes")
        return self.embed(codes + self.offsets.view(1, -1, 1)).sum(dim=1)

    def forward(self, codes: Tensor) -> Tensor:
        """codes (B, K, T) long -> logits (B, K, T, V); position t predicts frame t from the
        frames before it (BOS first), within the attention window."""
        b, k, t = codes.shape
        x = self.embed_frames(codes[:, :, :-1])  # (B, T - 1, D)
        x = torch.cat([self.bos.view(1, 1, -1).expand(b, 1, -1), x], dim=1)  # (B, T, D)
        bias = self.attention_bias(t).to(x.dtype)
        for block in self.blocks:
            x = block(x, bias)
        h = self.ln_f(x)  # (B, T, D)
        if not self.config.depth:
            logits = self.head(h)  # (B, T, K * V)
            return logits.view(b, t, k, -1).permute(0, 2, 1, 3)  # (B, K, T, V)
        e = self.depth_embed(codes + self.offsets.view(1, -1, 1))  # (B, K, T, D)
        drawn = (torch.cumsum(e, dim=1) - e).permute(0, 2, 1, 3)  # (B, T, K, D) codes < j
        return self._depth(h, drawn).permute(0, 2, 1, 3)  # (B, K, T, V)

    def _depth(self, h: Tensor, drawn: Tensor, j: int | None = None) -> Tensor:
        """Depth stage: h (..., D), drawn (..., J, D) summed embeddings of the codes before
        each codebook -> logits (..., J, V), for codebooks 0..K-1 (or codebook ``j`` alone,
        J = 1)."""
        cfg = self.config
        sl = slice(None) if j is None else slice(j, j + 1)
        u = h.unsqueeze(-2) + drawn + self.depth_pos[sl]  # (..., J, D)
        y = F.gelu(self.depth_ff1(self.depth_ln(u)), approximate="tanh")
        u = u + self.depth_ff2(y)
        w = self.head.weight.view(cfg.n_codebooks, cfg.codebook_size, cfg.d_model)[sl]
        bias = self.head.bias.view(cfg.n_codebooks, cfg.codebook_size)[sl]
        return torch.einsum("...jd,jvd->...jv", u, w) + bias  # (..., J, V)

    @torch.inference_mode()
    def depth_logits(self, state: PriorState, drawn: Tensor) -> Tensor:
        """A depth prior's logits (B, V) for codebook ``j = drawn.shape[1]`` of the frame
        :meth:`step` last predicted, given its codes 0..j-1 already drawn (B, j)."""
        if not self.config.depth or state.hidden is None:
            raise ValueError("depth_logits needs a depth prior and a state that has stepped")
        b, j = drawn.shape
        if j >= self.config.n_codebooks:
            raise ValueError(f"all {self.config.n_codebooks} codes are drawn already")
        w = self._step_weights()
        u = state.hidden
        for c in range(j):
            u = self._depth_add(u, drawn[:, c], c, w)
        return self._depth_logits(u, j, w)

    @staticmethod
    def _depth_add(u: Tensor, codes: Tensor, j: int, w: _StepWeights) -> Tensor:
        """u (B, D) plus the depth embeddings of codebook ``j``'s drawn ``codes`` (B,): the
        running sum the depth stage reads, one codebook at a time (as the sampler draws)."""
        return u + torch.embedding(w.depth_rows[j], codes)

    def _depth_logits(self, u: Tensor, j: int, w: _StepWeights) -> Tensor:
        """Codebook ``j``'s logits (B, V) from u (B, D): the hidden state plus the drawn
        codes' embeddings (:meth:`_depth_add`)."""
        return self._depth_head(u + w.depth_pos[j], w, j)

    def _depth_head(self, u: Tensor, w: _StepWeights, j: int) -> Tensor:
        """Codebook ``j``'s logits (N, V) from rows u (N, D): the depth MLP, then its head."""
        head, bias = w.heads[j]
        return torch.addmm(bias, self._depth_mlp(u, w), head)

    def _depth_mlp(self, u: Tensor, w: _StepWeights) -> Tensor:
        """:meth:`_depth`'s residual MLP in the step's layouts: rows u (N, D) (the hidden
        state plus the drawn codes' and the position's embeddings) → (N, D), before the
        head."""
        assert w.depth_ff1 is not None and w.depth_ff2 is not None and w.depth_vectors
        ln_w, ln_b, b1, b2 = w.depth_vectors
        y = torch.layer_norm(u, ln_w.shape, ln_w, ln_b, w.eps)
        y = F.gelu(torch.addmm(b1, y, w.depth_ff1), approximate="tanh")
        return torch.addmm(u + b2, y, w.depth_ff2)

    def _step_weights(self) -> _StepWeights:
        """The weights in the step's layouts, rebuilt when a parameter they come from has
        changed (an optimiser step, ``load_state_dict``, ``.to``)."""
        w = self._weights
        if w is not None and w.key == param_versions(w.sources):
            return w
        cfg = self.config
        k, v, d = cfg.n_codebooks, cfg.codebook_size, cfg.d_model
        blocks = [cast(_Block, b) for b in self.blocks]
        lin = [m for b in blocks for m in (b.qkv, b.out, b.ff1, b.ff2)] + [self.head]
        if cfg.depth:
            lin += [self.depth_ff1, self.depth_ff2]
        sources = [m.weight for m in lin] + [self.head.bias] + [b.qkv.bias for b in blocks]
        # plain tensors even when first called under inference_mode, so that later no_grad
        # calls may use them too
        with torch.inference_mode(False), torch.no_grad():
            t = [m.weight.t().contiguous() for m in lin]
            # the attention's 1/sqrt(Dh) goes into the query's weights and bias
            scale = 1.0 / math.sqrt(d // cfg.n_heads)
            qkv_bias = []
            for i, b in enumerate(blocks):
                t[4 * i][:, :d] *= scale
                qkv_bias.append(torch.cat([b.qkv.bias[:d] * scale, b.qkv.bias[d:]]))
            if cfg.depth:
                head = self.head.weight.view(k, v, d).transpose(1, 2).contiguous()  # (K, D, V)
                head_bias = self.head.bias.view(k, 1, v).clone()
            else:
                head, head_bias = t[4 * len(blocks)], self.head.bias.clone()
            eps = {float(n.eps) for b in blocks for n in (b.ln1, b.ln2)} | {float(self.ln_f.eps)}
            if cfg.depth:
                eps.add(float(self.depth_ln.eps))
            if len(eps) != 1:
                raise ValueError(f"the prior's layer norms have different epsilons {sorted(eps)}")
            w = _StepWeights(
                key=param_versions(sources),
                sources=sources,
                blocks=[tuple(t[4 * i : 4 * i + 4]) for i in range(len(blocks))],
                vectors=[
                    (b.ln1.weight, b.ln1.bias, qkv_bias[i], b.out.bias)
                    + (b.ln2.weight, b.ln2.bias, b.ff1.bias, b.ff2.bias)
                    for i, b in enumerate(blocks)
                ],
                eps=eps.pop(),
                ln_f=(self.ln_f.weight, self.ln_f.bias),
                head=head,
                head_bias=head_bias,
                depth_ff1=t[-2] if cfg.depth else None,
                depth_ff2=t[-1] if cfg.depth else None,
                depth_vectors=(
                    (self.depth_ln.weight, self.depth_ln.bias)
                    + (self.depth_ff1.bias, self.depth_ff2.bias)
                    if cfg.depth
                    else None
                ),
                depth_rows=list(self.depth_embed.weight.split(v)) if cfg.depth else [],
                depth_pos=list(self.depth_pos.unbind(0)) if cfg.depth else [],
                heads=[(head[j], head_bias[j, 0]) for j in range(k)] if cfg.depth else [],
            )
        self._weights = w
        return w

    def loss(self, codes: Tensor) -> Tensor:
        """Mean cross-entropy in nats per code of :meth:`forward` on ``codes`` (B, K, T)."""
        logits = self(codes)  # (B, K, T, V)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), codes.reshape(-1))

    # ---------------------------------------------------------------- streaming
    @torch.inference_mode()
    def initial_state(self, batch: int = 1) -> PriorState:
        """A fresh state for ``batch`` streams; the first :meth:`step` should get ``None``."""
        cfg = self.config
        p = self.head.weight
        shape = (cfg.n_layers, batch, cfg.n_heads, cfg.window, cfg.d_model // cfg.n_heads)
        return PriorState(
            k=torch.zeros(shape, dtype=p.dtype, device=p.device),
            v=torch.zeros(shape, dtype=p.dtype, device=p.device),
        )

    @torch.inference_mode()
    def step(
        self, tokens: Tensor | None, state: PriorState, first_only: bool = False
    ) -> tuple[Tensor, PriorState]:
        """Feed one frame and return the logits of the next.

        tokens: (B, K) long codes of the previous frame, or ``None`` for BOS (the start of a
        stream). Returns logits (B, K, V) and ``state`` (updated in place, pending tokens
        cleared). For a depth prior only codebook 0's logits are final: draw the others with
        :meth:`depth_logits`. ``first_only``: codebook 0's logits alone, (B, 1, V) (what
        sampling a depth prior needs of the step; it skips the other codebooks' heads).
        Eval-mode semantics (no dropout) whatever ``self.training`` says.
        """
        return self._step(tokens, state, first_only, self._step_weights())

    def _step(
        self, tokens: Tensor | None, state: PriorState, first_only: bool, w: _StepWeights
    ) -> tuple[Tensor, PriorState]:
        """:meth:`step` with the weights given (a sampler fetches them once per sequence:
        checking that they are current costs as much as a layer's matrix products)."""
        cfg = self.config
        b = state.batch
        d, h = cfg.d_model, cfg.n_heads
        if tokens is None:
            x = self.bos.view(1, d).expand(b, d)  # (B, D)
        else:
            if tokens.shape != (b, cfg.n_codebooks):
                raise ValueError(
                    f"tokens must have shape (batch={b}, n_codebooks={cfg.n_codebooks}), "
                    f"got {tuple(tokens.shape)}"
                )
            self._check_codes(tokens, "tokens")
            x = F.embedding(tokens + self.offsets, self.embed.weight).sum(dim=1)  # (B, D)
        slot = state.pos % cfg.window
        bias = (self.ring_warm if state.pos >= cfg.window else self.ring_cold)[slot]  # (H, W)
        bias = bias.unsqueeze(1) if b == 1 else bias.repeat(b, 1).unsqueeze(1)  # (B * H, 1, W)
        dh, n = d // h, b * h
        eps = w.eps
        for i in range(cfg.n_layers):
            w_qkv, w_out, w_ff1, w_ff2 = w.blocks[i]  # the query's columns scaled by 1/sqrt(Dh)
            ln1_w, ln1_b, qkv_b, out_b, ln2_w, ln2_b, ff1_b, ff2_b = w.vectors[i]
            y = torch.layer_norm(x, (d,), ln1_w, ln1_b, eps)
            qkv = torch.addmm(qkv_b, y, w_qkv).view(b, 3, h, dh)
            k_i, v_i = state.k[i], state.v[i]  # (B, H, W, Dh) views of the ring
            k_i.select(2, slot).copy_(qkv.select(1, 1))
            v_i.select(2, slot).copy_(qkv.select(1, 2))
            # attention of one query over the ring, heads as a batch (cheaper than SDPA's
            # general path)
            q = qkv.select(1, 0).reshape(n, 1, dh)
            keys = k_i.view(n, cfg.window, dh).transpose(1, 2)  # (B * H, Dh, W)
            scores = torch.baddbmm(bias, q, keys)  # (B * H, 1, W)
            att = torch.bmm(torch.softmax(scores, dim=-1), v_i.view(n, cfg.window, dh))
            x = torch.addmm(x + out_b, att.view(b, d), w_out)  # att (B * H, 1, Dh)
            y = torch.layer_norm(x, (d,), ln2_w, ln2_b, eps)
            y = F.gelu(torch.addmm(ff1_b, y, w_ff1), approximate="tanh")
            x = torch.addmm(x + ff2_b, y, w_ff2)
        x = torch.layer_norm(x, (d,), w.ln_f[0], w.ln_f[1], eps)
        if cfg.depth:
            # codebook 0's logits; the others depend on the codes drawn before them
            # (depth_logits): here they are those of an empty prefix
            state.hidden = x
            if first_only:  # (B, 1, V)
                logits = self._depth_head(x + w.depth_pos[0], w, 0).unsqueeze(1)
            else:
                u = (x.unsqueeze(1) + self.depth_pos).view(b * cfg.n_codebooks, d)  # (B * K, D)
                u = self._depth_mlp(u, w).view(b, cfg.n_codebooks, d)
                logits = torch.baddbmm(w.head_bias, u.transpose(0, 1), w.head).transpose(0, 1)
        else:
            logits = torch.addmm(w.head_bias, x, w.head).view(b, cfg.n_codebooks, -1)
            if first_only:
                logits = logits[:, :1]
        state.pos += 1
        state.last_tokens = None
        return logits, state

    def _check_codes(self, codes: Tensor, name: str) -> None:
        if codes.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"{name} must be integer codes (torch.long), got {codes.dtype}")
        if codes.dim() >= 2 and codes.shape[1] != self.config.n_codebooks:
            raise ValueError(
                f"{name} must have {self.config.n_codebooks} codebooks in dim 1, "
                f"got shape {tuple(codes.shape)}"
            )

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def bits_per_code(self, codes: Tensor) -> float:
        """Mean negative log2-likelihood per code of ``codes`` (B, K, T) (eval mode)."""
        with torch.inference_mode():
            return float(self.loss(codes)) / math.log(2.0)

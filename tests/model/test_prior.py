"""The prior: streaming step() equals the windowed forward(), the state never grows."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from distill_live.model.prior import Prior, PriorConfig


def _stream_logits(prior: Prior, codes: torch.Tensor) -> torch.Tensor:
    """Feed BOS, then frames 0..T-2 through step(); stack the logits as (B, K, T, V)."""
    state = prior.initial_state(codes.shape[0])
    out = []
    tokens = None
    for t in range(codes.shape[2]):
        logits, state = prior.step(tokens, state)
        out.append(logits)
        tokens = codes[:, :, t]
    return torch.stack(out, dim=2)


@pytest.mark.parametrize(
    "cfg",
    [
        PriorConfig.tiny(),
        PriorConfig(
            n_codebooks=3,
            codebook_size=10,
            d_model=48,
            n_layers=2,
            n_heads=3,
            window=5,
            dropout=0.0,
        ),
    ],
)
def test_step_matches_forward_past_the_window_wrap(cfg: PriorConfig) -> None:
    torch.manual_seed(0)
    prior = Prior(cfg).eval()
    t = 4 * cfg.window + 3  # the ring wraps several times
    codes = torch.randint(0, cfg.codebook_size, (2, cfg.n_codebooks, t))
    with torch.no_grad():
        full = prior(codes)
    assert full.shape == (2, cfg.n_codebooks, t, cfg.codebook_size)
    streamed = _stream_logits(prior, codes)
    torch.testing.assert_close(streamed, full, rtol=1e-4, atol=1e-5)


DEPTH = PriorConfig(**{**PriorConfig.tiny(n_codebooks=4).__dict__, "depth": True})


def test_depth_prior_streaming_matches_forward_code_by_code() -> None:
    """A depth prior's logits for codebook j depend on the codes 0..j-1 of the same frame:
    step() gives codebook 0's, depth_logits() the others given the codes drawn before them,
    and together they equal forward() (teacher-forced), past the ring wrap."""
    torch.manual_seed(2)
    prior = Prior(DEPTH).eval()
    with torch.no_grad():
        for p in prior.parameters():
            p.add_(0.1 * torch.randn_like(p))
    t = 3 * DEPTH.window + 2
    codes = torch.randint(0, DEPTH.codebook_size, (2, DEPTH.n_codebooks, t))
    with torch.no_grad():
        full = prior(codes)  # (B, K, T, V)
    state = prior.initial_state(2)
    tokens = None
    first_state = prior.initial_state(2)
    for i in range(t):
        logits, state = prior.step(tokens, state)
        torch.testing.assert_close(logits[:, 0], full[:, 0, i], rtol=1e-4, atol=1e-5)
        # what sampling asks for: codebook 0 alone, the same logits and the same state
        first, first_state = prior.step(tokens, first_state, first_only=True)
        assert first.shape == (2, 1, DEPTH.codebook_size)
        torch.testing.assert_close(first[:, 0], logits[:, 0], rtol=1e-5, atol=1e-6)
        for j in range(1, DEPTH.n_codebooks):
            lj = prior.depth_logits(state, codes[:, :j, i])
            torch.testing.assert_close(lj, full[:, j, i], rtol=1e-4, atol=1e-5)
        tokens = codes[:, :, i]
    torch.testing.assert_close(first_state.k, state.k)
    assert first_state.hidden is not None and state.hidden is not None
    assert torch.equal(first_state.hidden, state.hidden)
    # the earlier codes of the frame do change codebook 1's distribution
    other = (codes[:, :1, 0] + 1) % DEPTH.codebook_size
    assert not torch.allclose(
        prior.depth_logits(state, other), prior.depth_logits(state, codes[:, :1, 0])
    )


@pytest.mark.parametrize("depth", [False, True])
def test_only_a_depth_prior_learns_codes_that_depend_within_a_frame(depth: bool) -> None:
    """Frames whose codebook 1 repeats codebook 0, which is uniformly random: given the
    past, codebook 0 is unpredictable and codebook 1 is determined by it. A depth prior
    learns that (codebook 1 near 0 bits); parallel heads cannot (about log2 V bits)."""
    cfg = dataclasses.replace(PriorConfig.tiny(n_codebooks=2), depth=depth)
    torch.manual_seed(3)
    prior = Prior(cfg)
    opt = torch.optim.Adam(prior.parameters(), lr=3e-3)
    v = cfg.codebook_size
    for _ in range(150):
        c0 = torch.randint(0, v, (16, 1, 24))
        loss = prior.loss(torch.cat([c0, c0], dim=1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    prior.eval()
    c0 = torch.randint(0, v, (8, 1, 24))
    with torch.no_grad():
        logits = prior(torch.cat([c0, c0], dim=1))  # (B, 2, T, V)
        nll = torch.nn.functional.cross_entropy(
            logits[:, 1].reshape(-1, v), c0[:, 0].reshape(-1)
        ) / math.log(2)
    if depth:
        assert float(nll) < 0.5
    else:
        assert float(nll) > math.log2(v) - 0.5


def test_step_follows_weights_changed_after_it_ran() -> None:
    """step() multiplies by copies of the weights in its own layouts: an optimiser step (an
    in-place change) or load_state_dict after a step must be seen by the next one."""
    torch.manual_seed(4)
    prior = Prior(DEPTH).eval()
    codes = torch.randint(0, DEPTH.codebook_size, (1, DEPTH.n_codebooks, 6))
    prior.step(None, prior.initial_state(1))  # builds the copies
    other = Prior(DEPTH).eval()
    for change in ("in place", "load_state_dict"):
        with torch.no_grad():
            if change == "in place":
                for p in prior.parameters():
                    p.add_(0.05 * torch.randn_like(p))
            else:
                prior.load_state_dict(other.state_dict())
            full = prior(codes)  # (B, K, T, V)
        state, tokens = prior.initial_state(1), None
        for i in range(codes.shape[2]):
            logits, state = prior.step(tokens, state)
            torch.testing.assert_close(logits[:, 0], full[:, 0, i], rtol=1e-4, atol=1e-5)
            lj = prior.depth_logits(state, codes[:, :2, i])
            torch.testing.assert_close(lj, full[:, 2, i], rtol=1e-4, atol=1e-5)
            tokens = codes[:, :, i]


def test_window_limits_context_so_streams_are_endless() -> None:
    cfg = PriorConfig.tiny()
    torch.manual_seed(1)
    prior = Prior(cfg).eval()
    # each layer looks back window - 1 inputs, so stacked layers see L * (window - 1)
    reach = cfg.n_layers * (cfg.window - 1)
    t = reach + 6
    a = torch.randint(0, cfg.codebook_size, (1, cfg.n_codebooks, t))
    b = a.clone()
    b[:, :, 0] = (a[:, :, 0] + 1) % cfg.codebook_size  # differ only in the first frame
    with torch.no_grad():
        la, lb = prior(a), prior(b)
    # frame 0 is input position 1: positions 1 .. 1 + reach see it, later ones do not
    assert not torch.allclose(la[:, :, 1 + reach], lb[:, :, 1 + reach])
    torch.testing.assert_close(la[:, :, 2 + reach :], lb[:, :, 2 + reach :])


def test_state_has_fixed_size_and_is_updated_in_place() -> None:
    cfg = PriorConfig.tiny()
    prior = Prior(cfg).eval()
    state = prior.initial_state(1)
    ptr, shape = state.k.data_ptr(), state.k.shape
    tokens = torch.zeros(1, cfg.n_codebooks, dtype=torch.long)
    for _ in range(5 * cfg.window):
        _, state = prior.step(tokens, state)
    assert state.k.shape == shape and state.k.data_ptr() == ptr
    assert state.pos == 5 * cfg.window


def test_clone_is_an_independent_snapshot() -> None:
    cfg = PriorConfig.tiny()
    torch.manual_seed(2)
    prior = Prior(cfg).eval()
    state = prior.initial_state(1)
    seq = torch.randint(0, cfg.codebook_size, (1, cfg.n_codebooks, 3 * cfg.window))
    tokens = None
    for t in range(cfg.window + 2):
        _, state = prior.step(tokens, state)
        tokens = seq[:, :, t]
    snap = state.clone()
    # advance the original with other tokens, then replay from the snapshot
    for t in range(5):
        _, state = prior.step((seq[:, :, t] + 3) % cfg.codebook_size, state)
    ref_state = snap.clone()
    for t in range(cfg.window + 2, 2 * cfg.window):
        a, snap = prior.step(seq[:, :, t], snap)
        b, ref_state = prior.step(seq[:, :, t], ref_state)
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert state.pos != snap.pos or not torch.equal(state.k, snap.k)


@pytest.mark.parametrize("chunk", [1, 3, 11])  # 11 > the tiny window: the mark holds it all
def test_marks_restored_newest_first_undo_the_steps_exactly(chunk: int) -> None:
    cfg = dataclasses.replace(PriorConfig.tiny(), depth=True)
    torch.manual_seed(3)
    prior = Prior(cfg).eval()
    state = prior.initial_state(2)
    seq = torch.randint(0, cfg.codebook_size, (2, cfg.n_codebooks, 5 * chunk))
    marks, copies = [], []
    tokens, t = None, 0
    for _ in range(5):  # chunks of `chunk` steps, a mark (and a full copy) before each
        marks.append(state.mark(chunk))
        copies.append(state.clone())
        for _ in range(chunk):
            _, state = prior.step(tokens, state)
            tokens, t = seq[:, :, t], t + 1
        state.last_tokens = tokens
    if chunk < cfg.window:
        with pytest.raises(ValueError, match="restore the later marks first"):
            state.restore(marks[1])
    for back in (4, 3, 1):  # undo to chunk `back`, twice over the same marks
        for m in reversed(marks[back:]):
            state.restore(m)
        ref = copies[back]
        assert state.pos == ref.pos
        assert torch.equal(state.k, ref.k) and torch.equal(state.v, ref.v)
        assert torch.equal(state.last_tokens, ref.last_tokens)  # type: ignore[arg-type]
        assert torch.equal(state.hidden, ref.hidden)  # type: ignore[arg-type]
        # and it continues exactly as the copy does
        a, state = prior.step(seq[:, :, 0], state)
        b, _ = prior.step(seq[:, :, 0], ref.clone())
        assert torch.equal(a, b)
        state.restore(marks[back])
        marks = marks[: back + 1]


def test_step_rejects_bad_tokens() -> None:
    cfg = PriorConfig.tiny()
    prior = Prior(cfg).eval()
    state = prior.initial_state(2)
    with pytest.raises(ValueError, match="shape"):
        prior.step(torch.zeros(1, cfg.n_codebooks, dtype=torch.long), state)
    with pytest.raises(ValueError, match="integer"):
        prior.step(torch.zeros(2, cfg.n_codebooks), state)


def test_a_few_training_steps_lower_the_loss() -> None:
    cfg = PriorConfig.tiny()
    torch.manual_seed(3)
    prior = Prior(cfg).train()
    # a repeating pattern is learnable; the loss must fall well below log(V)
    pattern = torch.randint(0, cfg.codebook_size, (1, cfg.n_codebooks, 4))
    codes = pattern.repeat(4, 1, 6)  # (4, K, 24)
    opt = torch.optim.Adam(prior.parameters(), lr=3e-3)
    first = float(prior.loss(codes).detach())
    for _ in range(60):
        opt.zero_grad()
        loss = prior.loss(codes)
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.5 * first
    prior.eval()
    assert prior.bits_per_code(codes) < 0.5 * first / 0.6931


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="divisible"):
        PriorConfig(d_model=30, n_heads=4)
    with pytest.raises(ValueError, match="window"):
        PriorConfig(window=1)

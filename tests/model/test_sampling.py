"""Sampling filters against hand-computed distributions, and seeded, continuable sampling."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
import torch

from distill_live.errors import SamplingError
from distill_live.model.prior import Prior, PriorConfig
from distill_live.model.sampling import (
    SamplingParams,
    filter_logits,
    sample_code_sequence,
    sample_from_logits,
)
from distill_live.params import PARAMS

P = [0.5, 0.3, 0.15, 0.05]


def _logits(p: list[float] = P) -> torch.Tensor:
    return torch.log(torch.tensor(p, dtype=torch.float32))


def _dist(logits: torch.Tensor, **kw: float) -> list[float]:
    t = float(kw.pop("temperature", 1.0))
    out = torch.softmax(
        filter_logits(
            logits, SamplingParams(t, int(kw.pop("top_k", 0)), float(kw.pop("top_p", 1.0)))
        ),
        -1,
    )
    return out.tolist()


def test_filters_off_keep_the_distribution() -> None:
    assert _dist(_logits()) == pytest.approx(P, abs=1e-6)
    assert _dist(_logits(), top_k=4) == pytest.approx(P, abs=1e-6)  # top_k >= V: all kept
    assert _dist(_logits(), top_k=512) == pytest.approx(P, abs=1e-6)


def test_top_p_keeps_the_smallest_set_reaching_p() -> None:
    # 0.5 + 0.3 = 0.8 reaches 0.8: exactly the first two, renormalised
    assert _dist(_logits(), top_p=0.8) == pytest.approx([0.625, 0.375, 0, 0], abs=1e-6)
    assert _dist(_logits(), top_p=0.81) == pytest.approx(
        [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0], abs=1e-6
    )
    assert _dist(_logits(), top_p=0.5) == pytest.approx([1, 0, 0, 0], abs=1e-6)
    assert _dist(_logits(), top_p=0.0) == pytest.approx([1, 0, 0, 0], abs=1e-6)


def test_top_k_then_top_p_compose() -> None:
    assert _dist(_logits(), top_k=2) == pytest.approx([0.625, 0.375, 0, 0], abs=1e-6)
    # top-k 2 keeps [0.625, 0.375]; top-p 0.5 on that keeps the first alone
    assert _dist(_logits(), top_k=2, top_p=0.5) == pytest.approx([1, 0, 0, 0], abs=1e-6)
    # top-p 0.6 alone keeps two codes (0.5 < 0.6); after top-k 2 the first holds 0.625 >= 0.6:
    # the nucleus is taken on what top-k kept, not on the original distribution
    assert _dist(_logits(), top_p=0.6) == pytest.approx([0.625, 0.375, 0, 0], abs=1e-6)
    assert _dist(_logits(), top_k=2, top_p=0.6) == pytest.approx([1, 0, 0, 0], abs=1e-6)
    # top-k 3 renormalises to [.526, .316, .158]: the first two hold .842, enough for 0.8
    # but not for 0.85
    kept3 = [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0]
    assert _dist(_logits(), top_k=3, top_p=0.8) == pytest.approx([0.625, 0.375, 0, 0], abs=1e-6)
    assert _dist(_logits(), top_k=3, top_p=0.85) == pytest.approx(kept3, abs=1e-6)


def test_ties_at_the_kth_code_are_kept_before_top_p() -> None:
    # top-k 2 keeps the three codes tied at 0.2 too; top-p 0.5 on [.4, .2, .2, .2] then
    # keeps the first and one of the tied codes
    d = _dist(_logits([0.4, 0.2, 0.2, 0.2]), top_k=2)
    assert d == pytest.approx([0.4, 0.2, 0.2, 0.2], abs=1e-6)
    d = _dist(_logits([0.4, 0.2, 0.2, 0.2]), top_k=2, top_p=0.5)
    assert d[0] == pytest.approx(2 / 3, abs=1e-6)
    assert sorted(d[1:]) == pytest.approx([0, 0, 1 / 3], abs=1e-6)


def _reference_filter(logits: np.ndarray, t: float, k: int, p: float) -> np.ndarray:
    """The documented order, one row at a time, the slow way: which codes survive."""
    x = logits / t
    keep = np.ones(len(x), bool)
    if 0 < k < len(x):
        keep &= x >= np.sort(x)[::-1][k - 1]
    if p < 1.0:
        probs = np.where(keep, np.exp(x - x[keep].max()), 0.0)
        probs /= probs.sum()
        order = np.argsort(-probs, kind="stable")
        mass, nucleus = 0.0, np.zeros(len(x), bool)
        for i in order:
            if mass >= p - 1e-6 and nucleus.any():
                break
            nucleus[i] = True
            mass += probs[i]
        keep &= nucleus
    return keep


def test_filters_match_a_reference_on_random_logits() -> None:
    g = torch.Generator().manual_seed(3)
    for _ in range(300):
        v = int(torch.randint(2, 300, (1,), generator=g))
        x = torch.randn(v, generator=g, dtype=torch.float64) * 3
        t = float(torch.rand(1, generator=g)) * 1.9 + 0.1
        k = int(torch.randint(0, v + 2, (1,), generator=g))
        p = float(torch.rand(1, generator=g))
        got = torch.isfinite(filter_logits(x, SamplingParams(t, k, p))).numpy()
        assert np.array_equal(got, _reference_filter(x.numpy(), t, k, p)), (v, t, k, p)


def test_temperature_comes_before_top_p() -> None:
    p = np.array(P)
    hot = p**0.5 / (p**0.5).sum()  # temperature 2: [0.379, 0.293, 0.208, 0.120]
    assert _dist(_logits(), temperature=2.0) == pytest.approx(hot.tolist(), abs=1e-6)
    # at temperature 2 the first two hold 0.672 < 0.8, so top-p 0.8 keeps three codes
    # (top-p before the temperature would have kept two)
    kept = np.array([hot[0], hot[1], hot[2], 0.0])
    assert _dist(_logits(), temperature=2.0, top_p=0.8) == pytest.approx(
        (kept / kept.sum()).tolist(), abs=1e-6
    )
    cold = p**2 / (p**2).sum()
    assert _dist(_logits(), temperature=0.5) == pytest.approx(cold.tolist(), abs=1e-6)


@pytest.mark.parametrize("temperature", [0.0, 1e-6, 5e-5])
def test_near_zero_temperature_is_greedy_without_nan(temperature: float) -> None:
    logits = torch.tensor([[0.1, 3.0, -2.0, 2.9], [5.0, 1.0, 0.0, -1.0]])
    f = filter_logits(logits, SamplingParams(temperature, 0, 1.0))
    assert not torch.isnan(f).any()
    assert torch.softmax(f, -1).tolist() == [[0, 1, 0, 0], [1, 0, 0, 0]]
    assert sample_from_logits(logits, SamplingParams(temperature)).tolist() == [1, 0]


def test_at_least_one_code_survives() -> None:
    logits = torch.tensor([[-1e9, -1e9, 0.0, -1e9], [0.0, 0.0, 0.0, 0.0]])
    for kw in ({"top_p": 1e-9}, {"top_k": 1}, {"top_k": 1, "top_p": 0.0}, {"temperature": 0.1}):
        f = filter_logits(
            logits,
            SamplingParams(
                kw.get("temperature", 1.0), int(kw.get("top_k", 0)), kw.get("top_p", 1.0)
            ),
        )
        assert (torch.isfinite(f).sum(-1) >= 1).all(), kw
    assert sample_from_logits(logits[:1], SamplingParams(1.0, 0, 1e-9)).tolist() == [2]


def test_filters_are_per_row_and_pure() -> None:
    logits = torch.stack([_logits(), _logits([0.05, 0.15, 0.3, 0.5])])  # (2, 4)
    before = logits.clone()
    dist = torch.softmax(filter_logits(logits, SamplingParams(1.0, 0, 0.8)), -1)
    assert dist.tolist()[0] == pytest.approx([0.625, 0.375, 0, 0], abs=1e-6)
    assert dist.tolist()[1] == pytest.approx([0, 0, 0.375, 0.625], abs=1e-6)
    assert torch.equal(logits, before)
    # with nothing to filter the result is still a new tensor, not the caller's
    same = filter_logits(logits, SamplingParams(1.0, 0, 1.0))
    assert torch.equal(same, before) and same.data_ptr() != logits.data_ptr()


def test_empirical_frequencies_match_the_filtered_distribution() -> None:
    g = torch.Generator().manual_seed(0)
    logits = _logits().expand(40000, 4)
    draws = sample_from_logits(logits, SamplingParams(1.0, 0, 0.8), generator=g)
    freq = torch.bincount(draws, minlength=4).double() / draws.numel()
    assert freq.tolist() == pytest.approx([0.625, 0.375, 0, 0], abs=0.01)
    assert int(freq[2:].sum() * draws.numel()) == 0


def test_an_exponential_draw_of_zero_never_picks_a_removed_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The draw is argmax(x - log E): E = 0 at a removed code (x = -inf) would give NaN there,
    # which argmax takes. Here every E is 1 but the removed code 3's, which is 0.
    def zero_at_3(self: torch.Tensor, **kw: Any) -> torch.Tensor:
        self.fill_(1.0)
        self[..., 3] = 0.0
        return self

    monkeypatch.setattr(torch.Tensor, "exponential_", zero_at_3)
    out = sample_from_logits(_logits().expand(5, 4), SamplingParams(1.0, 0, 0.8))
    assert out.tolist() == [0] * 5  # the most likely code, as E = 1 everywhere else says


@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"temperature": -0.5}, "temperature"),
        ({"temperature": PARAMS["temperature"].maximum + 0.5}, "temperature"),
        ({"temperature": math.nan}, "temperature"),
        ({"top_k": -1}, "top_k"),
        ({"top_k": int(PARAMS["top_k"].maximum) + 1}, "top_k"),
        ({"top_k": 2.5}, "top_k"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_p": -0.1}, "top_p"),
        ({"top_p": "high"}, "top_p"),
    ],
)
def test_out_of_range_parameters_are_refused(kw: dict, name: str) -> None:
    args = {"temperature": 1.0, "top_k": 0, "top_p": 1.0, **kw}
    with pytest.raises(SamplingError, match=name):
        SamplingParams(args["temperature"], args["top_k"], args["top_p"])


def test_sampling_params_are_typed_and_name_the_range() -> None:
    sp = SamplingParams(0, 40.0, 1)  # type: ignore[arg-type]  # whole floats for top_k, too
    assert (sp.temperature, sp.top_k, sp.top_p) == (0.0, 40, 1.0)
    assert type(sp.top_k) is int and type(sp.temperature) is float and sp.greedy
    assert not SamplingParams().greedy
    with pytest.raises(
        SamplingError, match=r"temperature must be in 0\.\.2 \(0 = greedy\), got 2\.5"
    ):
        SamplingParams(temperature=2.5)
    with pytest.raises(SamplingError, match=r"top_k must be a whole number in 0\.\.512.*2\.5"):
        SamplingParams(top_k=2.5)  # type: ignore[arg-type]
    assert issubclass(SamplingError, ValueError)
    with pytest.raises(TypeError, match="SamplingParams"):
        filter_logits(_logits(), 1.0)  # type: ignore[arg-type]


def test_every_live_control_value_is_a_valid_sampling_value() -> None:
    """The model checks its own ranges; the control table's must lie inside them."""
    for name in ("temperature", "top_k", "top_p"):
        p = PARAMS[name]
        for value in (p.minimum, p.default, p.maximum):
            kw: dict[str, Any] = {name: value}
            SamplingParams(**kw)


@pytest.fixture(scope="module", params=[False, True], ids=["parallel", "depth"])
def prior(request: pytest.FixtureRequest) -> Prior:
    """Parallel heads, and a depth prior (a frame's codes drawn one after another)."""
    torch.manual_seed(4)
    cfg = dataclasses.replace(
        PriorConfig.tiny(n_codebooks=3, codebook_size=32), depth=request.param
    )
    p = Prior(cfg).eval()
    with torch.no_grad():  # sharpen the untrained head so greedy and sampling differ clearly
        p.head.weight.mul_(40.0)
        if cfg.depth:
            p.depth_embed.weight.mul_(20.0)
    return p


def _sample(prior: Prior, n: int, seed: int | None = 0, **kw: Any) -> torch.Tensor:
    g = None if seed is None else torch.Generator().manual_seed(seed)
    sampling = SamplingParams(**kw)
    codes, _ = sample_code_sequence(
        prior, prior.initial_state(2), n, sampling=sampling, generator=g
    )
    return codes


def test_same_seed_same_codes(prior: Prior) -> None:
    a, b, c = _sample(prior, 40, 7), _sample(prior, 40, 7), _sample(prior, 40, 8)
    assert a.shape == (2, 3, 40) and a.dtype == torch.long
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_top_k_1_and_top_p_0_are_greedy(prior: Prior) -> None:
    greedy = _sample(prior, 30, None, temperature=0.0)
    assert torch.equal(_sample(prior, 30, 1, top_k=1), greedy)
    assert torch.equal(_sample(prior, 30, 2, top_p=0.0), greedy)
    assert torch.equal(_sample(prior, 30, 3, temperature=1.7, top_k=1), greedy)
    # and greedy equals stepping the prior by hand with argmax
    state = prior.initial_state(2)
    tokens = None
    for t in range(30):
        logits, state = prior.step(tokens, state)
        tokens = logits.argmax(-1)
        for j in range(1, 3 if prior.config.depth else 0):  # each given the ones before
            tokens[:, j] = prior.depth_logits(state, tokens[:, :j]).argmax(-1)
        assert torch.equal(tokens, greedy[:, :, t])


def test_consecutive_calls_continue_one_stream(prior: Prior) -> None:
    g = torch.Generator().manual_seed(5)
    whole, _ = sample_code_sequence(prior, prior.initial_state(1), 25, generator=g)
    g = torch.Generator().manual_seed(5)
    state = prior.initial_state(1)
    parts = []
    for n in (10, 0, 7, 8):
        codes, state = sample_code_sequence(prior, state, n, generator=g)
        parts.append(codes)
    assert torch.equal(torch.cat(parts, dim=2), whole)
    assert state.pos == 25 and state.last_tokens is not None


def test_snapshot_regenerates_the_same_lookahead(prior: Prior) -> None:
    g = torch.Generator().manual_seed(6)
    _, state = sample_code_sequence(prior, prior.initial_state(1), 12, generator=g)
    snap, gstate = state.clone(), g.get_state()
    ahead, _ = sample_code_sequence(prior, state, 9, generator=g)
    g.set_state(gstate)
    again, _ = sample_code_sequence(prior, snap, 9, generator=g)
    assert torch.equal(ahead, again)


def test_entropy_rises_with_temperature(prior: Prior) -> None:
    def entropy(t: float) -> float:
        codes = _sample(prior, 150, 9, temperature=t)
        h = 0.0
        for k in range(codes.shape[1]):
            p = torch.bincount(codes[:, k].reshape(-1), minlength=32).double()
            p = p[p > 0] / p.sum()
            h += float(-(p * p.log2()).sum())
        return h / codes.shape[1]

    e = [entropy(t) for t in (0.3, 1.0, 1.8)]
    assert e[0] < e[1] < e[2], e


def test_one_generator_per_row_gives_independent_streams(prior: Prior) -> None:
    gens = [torch.Generator().manual_seed(11), torch.Generator().manual_seed(12)]
    both, _ = sample_code_sequence(prior, prior.initial_state(2), 30, generator=gens)
    for row, seed in enumerate((11, 12)):
        alone, _ = sample_code_sequence(
            prior, prior.initial_state(1), 30, generator=torch.Generator().manual_seed(seed)
        )
        assert torch.equal(both[row : row + 1], alone)
    with pytest.raises(ValueError, match="generators for a batch of 2"):
        sample_code_sequence(prior, prior.initial_state(2), 3, generator=gens[:1])


def test_draws_are_torch_multinomials_for_the_same_seed() -> None:
    # Sessions recorded before the exponential race replaced torch.multinomial name seeds
    # that must give the same codes: for one sample, multinomial takes the argmax of p / E
    # over the same exponential draws.
    logits = torch.randn(64, 256, generator=torch.Generator().manual_seed(7)) * 3
    ours = sample_from_logits(logits, SamplingParams(1.0, 0, 1.0), torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(1)
    theirs = torch.cat([torch.multinomial(torch.softmax(r, -1), 1, generator=g) for r in logits])
    assert ours.tolist() == theirs.view(-1).tolist()

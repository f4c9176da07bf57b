"""The engine streams a pitched (causal) codec: each frame decoded once, rollbacks exact."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch

from distill_live.engine.generator import Generator, SeededSampling
from distill_live.engine.render import parse_automation, render_frames
from distill_live.model.sampling import sample_code_sequence

AUTOMATION = [
    {"time_s": 0.30, "param": "temperature", "value": 0.6},
    {"time_s": 0.71, "param": "seed", "value": 42},
    {"time_s": 0.90, "param": "top_k", "value": 5},
]


@pytest.fixture(scope="module")
def pitched_model() -> Any:
    from distill_live.model import build_model
    from distill_live.model.codec import CodecConfig

    torch.manual_seed(99)
    cfg = dataclasses.replace(CodecConfig.tiny(), pitch=True, n_codebooks=3, harmonics=8)
    return build_model(cfg, tiny=True)


def test_streamed_chunks_equal_one_whole_decode(pitched_model: Any) -> None:
    model = pitched_model
    gen = Generator(model, SeededSampling(seed=3), chunk_frames=2)
    assert gen.streaming and gen.lead_frames == 0
    stream = np.concatenate([gen.next_chunk() for _ in range(40)], axis=1)
    rng = torch.Generator()
    rng.manual_seed(3)
    codes, _ = sample_code_sequence(model.prior, model.prior.initial_state(1), 80, generator=rng)
    with torch.inference_mode():
        whole = model.codec.decode(model.codec.codes_to_embeddings(codes)).numpy()
    hop = model.hop
    # the stream runs one frame behind its codes: its first frame is the lead-in
    assert np.max(np.abs(stream[:, hop:] - whole[:, : stream.shape[1] - hop])) < 1e-5


def test_rollbacks_are_exact_whatever_the_block_size_and_lookahead(pitched_model: Any) -> None:
    auto = parse_automation(AUTOMATION)
    runs = [(256, 250.0), (64, 25.0), (1024, 900.0)]
    out = [
        render_frames(pitched_model, 60000, automation=auto, blocksize=b, lookahead_ms=la)
        for b, la in runs
    ]
    for other in out[1:]:
        assert np.array_equal(out[0], other)
    plain = render_frames(pitched_model, 60000)
    first = int(0.30 * 48000)
    assert np.array_equal(plain[:first], out[0][:first])
    assert not np.allclose(plain[first + 2048 :], out[0][first + 2048 :])

"""The engine streams a pitched (causal) codec: each frame decoded once, rollbacks exact."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch

from distill_live.engine.generator import STREAMING_DECODE_FRAMES, Generator, SeededSampling
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


@pytest.mark.parametrize("decode_frames", [2, 3, 4])
def test_one_frame_chunks_from_longer_decoder_calls_equal_one_whole_decode(
    pitched_model: Any, decode_frames: int
) -> None:
    gen = Generator(model := pitched_model, SeededSampling(seed=3), 1, chunk_frames=1,
                    decode_frames=decode_frames)  # fmt: skip
    assert gen.decode_frames == decode_frames
    chunks = [gen.next_chunk() for _ in range(40)]
    assert all(c.shape == (1, model.hop) for c in chunks)
    stream = np.concatenate(chunks, axis=1)
    whole = Generator(model, SeededSampling(seed=3), chunk_frames=40)
    assert np.max(np.abs(stream - whole.next_chunk())) < 1e-5


def _run(gen: Generator, n: int) -> list[np.ndarray]:
    return [gen.next_chunk() for _ in range(n)]


@pytest.mark.parametrize("frame", [5, 8])  # inside a four-frame call, and at a call's start
def test_a_rollback_into_a_decoder_call_continues_the_stream(
    pitched_model: Any, frame: int
) -> None:
    """One-frame chunks from longer decoder calls: a boundary inside a call gets the state
    there by decoding the call's earlier frames again, so going back and on changes nothing
    audible, and a change there gives what the change made in the first place gives, bit for
    bit."""
    plain = np.concatenate(
        _run(Generator(pitched_model, SeededSampling(seed=4), chunk_frames=1), 20), 1
    )
    gen = Generator(pitched_model, SeededSampling(seed=4), chunk_frames=1)
    assert gen.decode_frames == STREAMING_DECODE_FRAMES == 4
    head = _run(gen, 9)
    gen.rollback_emission(frame)
    # the first chunks after a rollback are decoded one a call (heard sooner), then four
    first_again = _run(gen, 2)
    assert gen.emitted == frame + 2 and gen._ahead is None
    first_again.append(gen.next_chunk())
    assert gen._ahead is not None  # a four-frame call again
    gen.rollback_emission(frame + 3)
    again = np.concatenate(head[:frame] + first_again + _run(gen, 17 - frame), 1)
    assert np.max(np.abs(again - plain)) < 1e-6

    new = SeededSampling(seed=4, temperature=0.5)
    late = Generator(pitched_model, SeededSampling(seed=4), chunk_frames=1)  # rolls back
    out_late = _run(late, 9)[:frame]
    late.rollback_codes(frame)
    late.set_sampling(new)
    first = Generator(pitched_model, SeededSampling(seed=4), chunk_frames=1)  # changes there
    out_first = _run(first, frame)
    first.rollback_codes(frame)  # at the boundary, with the rest of its call decoded
    first.set_sampling(new)
    a = np.concatenate(out_late + _run(late, 20 - frame), 1)
    b = np.concatenate(out_first + _run(first, 20 - frame), 1)
    assert np.array_equal(a, b)
    assert not np.allclose(
        a[:, (frame + 2) * pitched_model.hop :], plain[:, (frame + 2) * pitched_model.hop :]
    )

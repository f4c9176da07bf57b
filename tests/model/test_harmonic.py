"""The harmonic oscillator bank: continuous across chunks, at the right pitch, no aliasing;
the amplitudes it should have, read off audio."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from distill_live.model.harmonic import (
    TARGET_FFT,
    OscState,
    harmonic_bank,
    harmonic_features,
    harmonic_targets,
)

SR, HOP, H = 48000, 256, 16


def _notes(t: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """f0 (1, T) with notes, glides and unpitched gaps; amps (1, H, T) random."""
    g = torch.Generator().manual_seed(seed)
    f0 = torch.zeros(1, t)
    i = 0
    while i < t:
        n = int(torch.randint(2, 9, (1,), generator=g))
        if torch.rand(1, generator=g) < 0.25:
            f0[0, i : i + n] = 0  # a rest
        else:
            f0[0, i : i + n] = 80 + 900 * torch.rand(1, generator=g)
        i += n
    amps = torch.rand(1, H, t, generator=g) / torch.arange(1, H + 1).view(1, H, 1)
    return f0, amps


@pytest.mark.parametrize("chunks", [[1] * 40, [2] * 20, [3, 7, 1, 13, 16], [40]])
def test_streamed_equals_whole(chunks: list[int]) -> None:
    f0, amps = _notes(sum(chunks))
    whole, end = harmonic_bank(f0, amps, HOP, SR)
    state, parts, at = None, [], 0
    for n in chunks:
        out, state = harmonic_bank(f0[:, at : at + n], amps[:, :, at : at + n], HOP, SR, state)
        parts.append(out)
        at += n
    streamed = torch.cat(parts, dim=1)
    assert streamed.shape == whole.shape == (1, sum(chunks) * HOP)
    assert torch.max(torch.abs(streamed - whole)) < 1e-4
    assert state is not None
    assert torch.allclose(state.phase, end.phase, atol=1e-6)
    assert state.phase.shape == (1,)


def test_a_held_note_is_one_sinusoid_at_its_pitch() -> None:
    t = 48  # about 0.26 s at hop 256
    f0 = torch.full((1, t), 220.0)
    amps = torch.zeros(1, 4, t)
    amps[:, 0] = 0.5
    audio, _ = harmonic_bank(f0, amps, HOP, SR)
    x = audio[0, 4 * HOP :].numpy()  # after the onset ramp
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    peak_hz = np.argmax(spec) * SR / len(x)
    assert abs(peak_hz - 220.0) < SR / len(x)
    # phase continuity: no sample-to-sample jump larger than a 220 Hz sine's own slope allows
    assert np.max(np.abs(np.diff(x))) <= 0.5 * 2 * np.pi * 220 / SR * 1.01


def test_unpitched_frames_are_silent_and_notes_start_from_zero() -> None:
    f0 = torch.tensor([[0.0, 0.0, 330.0, 330.0, 0.0, 0.0]])
    amps = torch.ones(1, 3, 6)
    audio, state = harmonic_bank(f0, amps, HOP, SR)
    frames = audio.reshape(6, HOP)
    assert torch.all(frames[:2] == 0)  # before the note
    assert torch.all(frames[5] == 0)  # after its release frame
    assert abs(float(frames[2, 0])) < 0.05  # the onset ramps up from silence: no click
    assert float(state.f0[0]) == 0.0


def test_partials_above_nyquist_are_silent() -> None:
    f0 = torch.full((1, 8), 15000.0)  # harmonic 2 would be 30 kHz
    amps = torch.zeros(1, 2, 8)
    amps[:, 1] = 1.0
    audio, _ = harmonic_bank(f0, amps, HOP, SR)
    assert torch.all(audio == 0)


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="f0 must be"):
        harmonic_bank(torch.zeros(1, 5), torch.zeros(1, 3, 4), HOP, SR)
    assert OscState.initial(2, 3).amps.shape == (2, 3)


def test_clenshaw_sum_equals_the_direct_sum_of_partials() -> None:
    t, f = 12, 187.3
    amps = torch.rand(1, 24, 1).expand(1, 24, t).contiguous()
    audio, _ = harmonic_bank(torch.full((1, t), f), amps, HOP, SR)
    n = torch.arange(t * HOP, dtype=torch.float64)
    theta = 2 * np.pi * f * (n + 1) / SR  # constant f0 from phase 0: one step per sample
    k = torch.arange(1, 25, dtype=torch.float64).view(24, 1)
    direct = (amps[0, :, :1].double() * torch.sin(k * theta)).sum(0)
    assert torch.max(torch.abs(audio[0, HOP:].double() - direct[HOP:])) < 1e-3


def test_targets_read_back_the_amplitudes_the_bank_rendered() -> None:
    """A note whose partials swell and fade, rendered by the bank: the targets at each frame
    are the amplitudes given for that frame (the ramp reaches them at its end), within 3 %
    of the strongest; unpitched frames, partials over Nyquist and the edges are masked. (More
    frames than the function's block of spectra: the blocks join.)"""
    t, hop = 80, 1024
    f0 = torch.full((1, t), 220.0)
    f0[0, 30:34] = 0.0  # a rest
    frames = torch.arange(t, dtype=torch.float32)
    amps = torch.stack([0.4 / k * (1.2 + torch.sin(frames / (6 + k))) for k in range(1, H + 1)])[
        None
    ]  # (1, H, T): slow swells
    audio, _ = harmonic_bank(f0, amps, hop, SR)
    target, mask = harmonic_targets(audio, f0, H, hop, SR)
    assert target.shape == mask.shape == (1, H, t)
    edge = TARGET_FFT // 2 // hop
    assert not mask[..., : edge - 1].any() and not mask[..., t - edge :].any()
    assert not mask[..., 30:34].any() and mask[..., 10:30].all()
    # frames whose window does not reach the rest
    inside = [i for i in range(t) if mask[0, 0, i] and abs(i - 31.5) > edge + 2]
    err = (target - amps)[0][:, inside].abs().max()
    assert float(err) < 0.03 * float(amps.max())
    # a partial over Nyquist is masked
    high = torch.full((1, t), 4000.0)
    _, m = harmonic_targets(torch.zeros(1, t * hop), high, H, hop, SR)
    assert m[0, :5, edge + 1].all() and not m[0, 6:, edge + 1].any()


def test_features_give_the_encoder_each_partials_level_and_the_pitch() -> None:
    """A note with partials at -6, -20 and -40 dB: the features rank them in that order and
    are spaced by their log-ratio; masked entries and unpitched frames read 0; the last
    channel is log2(f0 / 220)."""
    t, hop = 24, 1024
    f0 = torch.full((1, t), 440.0)
    f0[0, 16:] = 0.0
    amps = torch.zeros(1, H, t)
    amps[0, :3] = torch.tensor([0.5, 0.1, 0.01]).view(3, 1)
    audio, _ = harmonic_bank(f0, amps, hop, SR)
    feats = harmonic_features(*harmonic_targets(audio, f0, H, hop, SR), f0)
    assert feats.shape == (1, H + 1, t)
    mid = feats[0, :, 6]
    assert float(mid[0]) > float(mid[1]) > float(mid[2]) > float(mid[5])
    # a tenth in amplitude is log(10) / 4 in the features (within the target's 3 %)
    assert float(mid[0] - mid[1]) == pytest.approx(np.log(5.0) / 4.0, abs=0.02)
    assert float(mid[1] - mid[2]) == pytest.approx(np.log(10.0) / 4.0, abs=0.02)
    assert torch.all(feats[0, :H, 18:] == 0)  # unpitched frames
    assert torch.all(feats[0, :H, 0] == 0)  # the first frame's window leaves the audio
    torch.testing.assert_close(feats[0, H, :16], torch.ones(16))  # 440 Hz: an octave up
    assert torch.all(feats[0, H, 16:] == 0)

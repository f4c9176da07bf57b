"""A harmonic oscillator bank whose phase runs sample by sample from the f0.

Each code frame gives an f0 (Hz, 0 = unpitched) and one amplitude per harmonic. Within a
frame, f0 and amplitudes move linearly from the previous frame's values to this frame's, and
each harmonic's phase is the running sum of its instantaneous frequency, so a held note is one
continuous sinusoid per partial across frames and across chunks of a stream, by construction.

The bank is causal: frame i needs only frame i-1 (its values are where the ramp starts), so
streaming carries a small explicit state (:class:`OscState`: phases, last f0, last
amplitudes) and ``render(whole) == concat(render(chunk) for chunk in chunks)`` up to float
rounding (tested). Onsets and releases: leaving or entering an unpitched frame ramps the
amplitudes from or to zero at the pitched neighbour's f0, never gliding through 0 Hz.
Partials at or above the Nyquist frequency are silenced sample by sample (no aliasing when a
bend or glide sweeps a partial past it).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["OscState", "f0_feature", "harmonic_bank", "harmonic_features", "harmonic_targets"]


@dataclass
class OscState:
    """Where a stream of the bank stands after a frame: enough to render the next one.

    phase: (B,) float64 radians in [0, 2π) of the fundamental at the end of the last frame
    (harmonic k's phase is k times it, so the partials of a note stay locked together).
    f0: (B,) the last frame's f0 in Hz (0 = unpitched). amps: (B, H) its amplitudes.
    """

    phase: Tensor
    f0: Tensor
    amps: Tensor

    @classmethod
    def initial(cls, batch: int, n_harmonics: int, dtype: torch.dtype = torch.float32) -> OscState:
        """A stream's start: silence, unpitched, phase 0."""
        return cls(
            phase=torch.zeros(batch, dtype=torch.float64),
            f0=torch.zeros(batch, dtype=dtype),
            amps=torch.zeros(batch, n_harmonics, dtype=dtype),
        )

    def clone(self) -> OscState:
        return OscState(self.phase.clone(), self.f0.clone(), self.amps.clone())


@dataclass(frozen=True)
class _Constants:
    """What every call of the bank multiplies or compares by, as tensors: a Python number
    costs a conversion per operation (the values are the same: torch rounds a Python number
    to the tensor's dtype)."""

    k: Tensor  # (H, 1): the harmonic numbers 1..H
    w: Tensor  # (hop,): the ramp weights (n + 1) / hop
    two_pi: Tensor  # (): 2π in the audio's dtype
    two_pi_64: Tensor  # (): 2π in float64, for the running phase
    rate: Tensor  # (): the sample rate
    nyquist: Tensor  # (): half the sample rate
    zero: Tensor  # ()


@functools.lru_cache(maxsize=16)
def _constants(
    n_harmonics: int, hop: int, sample_rate: int, dtype: torch.dtype, device: torch.device
) -> _Constants:
    """Made once per shape, plain tensors even when first asked for under ``inference_mode``
    (so that autograd may use them later); nothing writes to them."""
    with torch.inference_mode(False), torch.no_grad():

        def scalar(x: float, dt: torch.dtype = dtype) -> Tensor:
            return torch.tensor(x, dtype=dt, device=device)

        return _Constants(
            k=torch.arange(1, n_harmonics + 1, dtype=dtype, device=device).unsqueeze(1),
            w=torch.arange(1, hop + 1, dtype=dtype, device=device) / hop,
            two_pi=scalar(2 * math.pi),
            two_pi_64=scalar(2 * math.pi, torch.float64),
            rate=scalar(sample_rate),
            nyquist=scalar(sample_rate / 2),
            zero=scalar(0.0),
        )


def harmonic_bank(
    f0: Tensor, amps: Tensor, hop: int, sample_rate: int, state: OscState | None = None
) -> tuple[Tensor, OscState]:
    """Render frames of harmonic audio and return the state after the last frame.

    f0: (B, T) Hz per frame (0 = unpitched). amps: (B, H, T) amplitude of harmonic h+1 per
    frame (>= 0; an unpitched frame's amplitudes are ignored and treated as 0).
    Returns audio (B, T * hop) and the :class:`OscState` after frame T-1.

    Autograd flows through ``amps`` only (the phases depend on f0 alone). A stream renders
    one frame per call, so the steps below are few whole-tensor operations.
    """
    b, h, t = amps.shape
    if f0.shape != (b, t):
        raise ValueError(f"f0 must be (B, T) = {(b, t)} to match amps {tuple(amps.shape)}")
    if state is None:
        state = OscState.initial(b, h, amps.dtype)
    dtype = amps.dtype
    c = _constants(h, hop, sample_rate, dtype, amps.device)
    f0s = torch.cat([state.f0.to(dtype).unsqueeze(1), f0], dim=1)  # (B, T + 1): frame i-1, i
    positive = torch.gt(f0s, c.zero)
    pitched, f0_prev = positive[:, 1:], f0s[:, :-1]  # (B, T)
    # f0 at each frame's start and end. A release frame (unpitched after pitched) holds the
    # previous f0 while its amplitudes fall to 0; an onset frame (pitched after unpitched)
    # starts at its own f0 while they rise from 0; a frame between two unpitched ones is
    # silent and does not advance the phase. Each depends on frame i-1 only: the state.
    end = torch.where(pitched, f0, f0_prev)
    start = torch.where(positive[:, :-1], f0_prev, end)
    # a partial at or above Nyquist anywhere in a frame is silent for that frame
    audible = torch.lt(c.k * torch.maximum(start, end).unsqueeze(1), c.nyquist)  # (B, H, T)
    # amplitudes at each frame's start and end: the previous frame's (the state's for the
    # first) and this frame's, both silenced where the partial is not audible
    amps = torch.cat([state.amps.to(dtype).unsqueeze(2), amps * pitched.unsqueeze(1)], dim=2)
    ramps = (amps.unfold(2, 2, 1) * audible.unsqueeze(3)).permute(0, 2, 3, 1)  # (B, T, 2, H)

    # per-sample ramps within each frame: weight (n + 1) / hop on this frame's value
    f_inst = start.unsqueeze(2) + (end - start).unsqueeze(2) * c.w  # (B, T, hop) Hz
    step = c.two_pi * f_inst / c.rate  # (B, T, hop) radians per sample
    # the fundamental's phase at each frame's start: a float64 running sum over frames, so a
    # stream rendered in chunks and the whole sequence agree; within a frame, float32
    advance = step.double().sum(dim=2)  # (B, T)
    unwrapped = state.phase.unsqueeze(1) + torch.cumsum(advance, dim=1)  # (B, T) at frame ends
    frame_start = torch.remainder(unwrapped - advance, c.two_pi_64)
    theta = frame_start.to(dtype).unsqueeze(2) + torch.cumsum(step, dim=2)  # (B, T, hop)

    # sum_k a_k(n) sin(k theta) with a_k(n) the ramp from s_k to e_k: one (2, H) by (H, hop)
    # product per frame, then the ramp's weights; theta wrapped first so k * theta stays
    # small enough for float32
    theta = torch.remainder(theta, c.two_pi)
    partials = (c.k * theta.unsqueeze(2)).sin_()  # (B, T, H, hop); no gradient: in place
    both = torch.matmul(ramps, partials)  # (B, T, 2, hop): the start and end amplitudes' sums
    audio = torch.lerp(both[:, :, 0], both[:, :, 1], c.w)  # (B, T, hop)

    new_state = OscState(
        phase=torch.remainder(unwrapped[:, -1], c.two_pi_64).detach(),
        f0=f0s[:, -1].detach(),
        amps=amps[:, :, -1].detach(),
    )
    return audio.reshape(b, t * hop), new_state


#: window of :func:`harmonic_targets` (85 ms at 48 kHz: partials 12 Hz apart resolved),
#: zero-padded 4 times (a partial between bins loses at most 0.1 dB, not 1.4)
TARGET_FFT = 4096
_TARGET_PAD = 4
_TARGET_BLOCK = 64  # frames whose spectra harmonic_targets holds at once


def harmonic_targets(
    audio: Tensor, f0: Tensor, n_harmonics: int, hop: int, sample_rate: int
) -> tuple[Tensor, Tensor]:
    """What the bank's amplitudes should be to render ``audio``'s partials: each harmonic's
    amplitude (a sinusoid's peak) read off a :data:`TARGET_FFT`-point Hann spectrum centred on
    each frame's end, where the bank's ramp reaches it, in the bin nearest k * f0 of its
    zero-padded FFT.

    audio: (B, T) with T >= F * hop, f0: (B, F) Hz (0 = unpitched) → amplitudes (B, H, F)
    and a mask (B, H, F), true where the frame is pitched, the partial below Nyquist and the
    window inside the audio (not the first frame or the last ones).
    """
    n = f0.shape[1]
    half = TARGET_FFT // 2
    win = torch.hann_window(TARGET_FFT, periodic=False, dtype=audio.dtype, device=audio.device)
    padded = torch.nn.functional.pad(audio, (half, half + hop))  # samples past F * hop count
    frames = padded.unfold(-1, TARGET_FFT, hop)[:, 1 : n + 1]  # (B, F, N): centred on (i + 1) hop
    n_fft = TARGET_FFT * _TARGET_PAD
    k = torch.arange(1, n_harmonics + 1, dtype=f0.dtype, device=f0.device)
    hz = f0.unsqueeze(-1) * k  # (B, F, H)
    bins = torch.round(hz * (n_fft / sample_rate)).long().clamp(max=n_fft // 2)
    # a block of frames at a time: a whole file's spectra at once would take gigabytes
    amps = torch.cat(
        [
            torch.gather(
                torch.fft.rfft(frames[:, i : i + _TARGET_BLOCK] * win, n=n_fft).abs(),
                -1,
                bins[:, i : i + _TARGET_BLOCK],
            )
            for i in range(0, n, _TARGET_BLOCK)
        ],
        dim=1,
    ) * (2.0 / win.sum())  # (B, F, H)
    ends = (torch.arange(n, device=f0.device) + 1) * hop
    inside = (ends >= half) & (ends + half <= audio.shape[-1])  # (F,)
    mask = (f0.unsqueeze(-1) > 0) & (hz < sample_rate / 2) & inside[:, None]
    return (amps * mask).transpose(1, 2), mask.transpose(1, 2)


#: the floor of :func:`harmonic_features`' log-amplitudes (-80 dB below a full-scale sine)
_FEATURE_FLOOR = 1e-4


def harmonic_features(amps: Tensor, mask: Tensor, f0: Tensor) -> Tensor:
    """The encoder's view of :func:`harmonic_targets`: (B, H, F) amplitudes and mask and
    (B, F) f0 in Hz → (B, H + 1, F), each harmonic's log-amplitude scaled to about -1..1
    (0 where masked), then log2(f0 / 220 Hz) (0 for unpitched)."""
    logs = (torch.log(amps.clamp(min=_FEATURE_FLOOR)) + 5.0) / 4.0 * mask
    return torch.cat([logs, f0_feature(f0).unsqueeze(1)], dim=1)


def f0_feature(f0: Tensor) -> Tensor:
    """A network's view of f0 in Hz: log2(f0 / 220 Hz), about -2..3, and 0 for unpitched."""
    return torch.where(f0 > 0, torch.log2(f0.clamp(min=1.0) / 220.0), torch.zeros_like(f0))

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

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["OscState", "harmonic_bank"]


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


def harmonic_bank(
    f0: Tensor, amps: Tensor, hop: int, sample_rate: int, state: OscState | None = None
) -> tuple[Tensor, OscState]:
    """Render frames of harmonic audio and return the state after the last frame.

    f0: (B, T) Hz per frame (0 = unpitched). amps: (B, H, T) amplitude of harmonic h+1 per
    frame (>= 0; an unpitched frame's amplitudes are ignored and treated as 0).
    Returns audio (B, T * hop) and the :class:`OscState` after frame T-1.
    """
    b, h, t = amps.shape
    if f0.shape != (b, t):
        raise ValueError(f"f0 must be (B, T) = {(b, t)} to match amps {tuple(amps.shape)}")
    if state is None:
        state = OscState.initial(b, h, amps.dtype)
    dtype = amps.dtype
    pitched = f0 > 0  # (B, T)
    # f0 at each frame's start and end. A release frame (unpitched after pitched) holds the
    # previous f0 while its amplitudes fall to 0; an onset frame (pitched after unpitched)
    # starts at its own f0 while they rise from 0; a frame between two unpitched ones is
    # silent and does not advance the phase. Each depends on frame i-1 only: the state.
    f0_prev = torch.cat([state.f0.to(dtype).unsqueeze(1), f0[:, :-1]], dim=1)  # (B, T)
    end = torch.where(pitched, f0, f0_prev)
    start = torch.where(f0_prev > 0, f0_prev, end)
    k = torch.arange(1, h + 1, dtype=dtype).view(1, h, 1)
    # a partial at or above Nyquist anywhere in a frame is silent for that frame
    audible = (k * torch.maximum(start, end).unsqueeze(1)) < (sample_rate / 2)  # (B, H, T)
    amps = amps * pitched.unsqueeze(1).to(dtype)  # (B, H, T)
    amps_prev = torch.cat([state.amps.to(dtype).unsqueeze(2), amps[:, :, :-1]], dim=2)
    amps_end = amps * audible.to(dtype)
    amps_start = amps_prev * audible.to(dtype)

    # per-sample ramps within each frame: weight (n + 1) / hop on this frame's value
    w = torch.arange(1, hop + 1, dtype=dtype) / hop  # (hop,)
    f_inst = start.unsqueeze(2) + (end - start).unsqueeze(2) * w  # (B, T, hop) Hz
    step = 2 * math.pi * f_inst / sample_rate  # (B, T, hop) radians per sample
    # the fundamental's phase at each frame's start: a float64 running sum over frames, so a
    # stream rendered in chunks and the whole sequence agree; within a frame, float32
    advance = step.double().sum(dim=2)  # (B, T)
    frame_start = torch.remainder(
        state.phase.unsqueeze(1) + torch.cumsum(advance, dim=1) - advance, 2 * math.pi
    )
    theta = frame_start.to(dtype).unsqueeze(2) + torch.cumsum(step, dim=2)  # (B, T, hop)

    # sum_k a_k(n) sin(k theta) with a_k(n) = s_k + w(n) d_k: one (hop, H) by (H, 2) product
    # per frame; theta wrapped first so k * theta stays small enough for float32
    theta = torch.remainder(theta, 2 * math.pi)
    partials = torch.sin(theta.unsqueeze(3) * k.view(1, 1, 1, h))  # (B, T, hop, H)
    coef = torch.stack([amps_start, amps_end - amps_start], dim=3).transpose(1, 2)  # (B, T, H, 2)
    both = torch.matmul(partials, coef)  # (B, T, hop, 2)
    audio = both[..., 0] + w * both[..., 1]  # (B, T, hop)

    new_state = OscState(
        phase=torch.remainder(state.phase + advance.sum(dim=1), 2 * math.pi).detach(),
        f0=f0[:, -1].detach().clone(),
        amps=amps[:, :, -1].detach().clone(),
    )
    return audio.reshape(b, t * hop), new_state

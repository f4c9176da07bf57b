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

    phase: (B, H) radians in [0, 2π) of every harmonic at the end of the last frame.
    f0: (B,) the last frame's f0 in Hz (0 = unpitched). amps: (B, H) its amplitudes.
    """

    phase: Tensor
    f0: Tensor
    amps: Tensor

    @classmethod
    def initial(cls, batch: int, n_harmonics: int, dtype: torch.dtype = torch.float32) -> OscState:
        """A stream's start: silence, unpitched, all phases 0."""
        z = torch.zeros(batch, n_harmonics, dtype=dtype)
        return cls(phase=z.double(), f0=torch.zeros(batch, dtype=dtype), amps=z.clone())

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
    amps = amps * pitched.unsqueeze(1).to(dtype)  # (B, H, T)
    # f0 at each frame's start and end. A release frame (unpitched after pitched) holds the
    # previous f0 while its amplitudes fall to 0; an onset frame (pitched after unpitched)
    # starts at its own f0 while they rise from 0; a frame between two unpitched ones is
    # silent and does not advance the phase. Each depends on frame i-1 only: the state.
    f0_prev = torch.cat([state.f0.to(dtype).unsqueeze(1), f0[:, :-1]], dim=1)  # (B, T)
    end = torch.where(pitched, f0, f0_prev)
    start = torch.where(f0_prev > 0, f0_prev, end)
    amps_prev = torch.cat([state.amps.to(dtype).unsqueeze(2), amps[:, :, :-1]], dim=2)

    # per-sample ramps within each frame: weight (n + 1) / hop on this frame's value
    w = torch.arange(1, hop + 1, dtype=dtype) / hop  # (hop,)
    f_inst = start.unsqueeze(2) + (end - start).unsqueeze(2) * w  # (B, T, hop) Hz
    a_inst = amps_prev.unsqueeze(3) + (amps - amps_prev).unsqueeze(3) * w  # (B, H, T, hop)

    k = torch.arange(1, h + 1, dtype=dtype).view(1, h, 1, 1)
    step = 2 * math.pi * f_inst / sample_rate  # (B, T, hop) radians per sample of harmonic 1
    # phase of harmonic 1 at each frame's start: float64 running sum over frames, wrapped
    advance = step.double().sum(dim=2)  # (B, T)
    frame_start = torch.cumsum(advance, dim=1) - advance  # (B, T) before wrapping
    base = state.phase.unsqueeze(2) + k.squeeze(3).double() * frame_start.unsqueeze(1)
    base = torch.remainder(base, 2 * math.pi)  # (B, H, T)
    within = torch.cumsum(step, dim=2)  # (B, T, hop) float, small: at most one frame's advance
    phase = base.to(dtype).unsqueeze(3) + k * within.unsqueeze(1)  # (B, H, T, hop)
    audible = (k * f_inst.unsqueeze(1)) < (sample_rate / 2)  # (B, H, T, hop)
    audio = (a_inst * audible.to(dtype) * torch.sin(phase)).sum(dim=1)  # (B, T, hop)

    total = state.phase + k.view(1, h).double() * advance.sum(dim=1, keepdim=True)
    new_state = OscState(
        phase=torch.remainder(total, 2 * math.pi).detach(),
        f0=f0[:, -1].detach().clone(),
        amps=amps[:, :, -1].detach().clone(),
    )
    return audio.reshape(b, t * hop), new_state

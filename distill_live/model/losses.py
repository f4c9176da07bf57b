"""Losses for the codec: multi-resolution STFT, mel, and the adversarial refine stage."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .codec import mel_filterbank

__all__ = [
    "MultiResolutionSTFTLoss",
    "loudness_l1",
    "harmonic_loss",
    "harmonic_item_loss",
    "MelLoss",
    "ReconstructionLoss",
    "SpectrogramDiscriminator",
    "hinge_d_loss",
    "hinge_g_loss",
    "feature_matching_loss",
]


def _stft_mag(x: Tensor, n_fft: int, window: Tensor) -> Tensor:  # (B, T) → (B, bins, S)
    spec = torch.stft(x, n_fft, n_fft // 4, window=window, center=True, return_complex=True)
    return torch.sqrt(spec.real**2 + spec.imag**2 + 1e-9)


def _floor(n_fft: int) -> float:
    """Magnitude floor of the log losses: 80 dB below a full-scale sine (n_fft / 4)."""
    return 1e-4 * n_fft / 4


#: a crop quieter than this RMS has no per-item spectral convergence (eval's ``SILENCE_RMS``:
#: its segments this quiet are not measured either)
SILENT_CROP_RMS = 1e-3


#: frames of the loudness term (samples; half a code frame at the default hop) and its floor
#: (RMS 1e-4, 80 dB under a full-scale square: quieter frames count as that quiet)
LOUDNESS_FRAME = 512
LOUDNESS_FLOOR = 1e-4


def loudness_l1(y_hat: Tensor, y: Tensor, frame: int = LOUDNESS_FRAME) -> Tensor:
    """L1 distance of the two signals' loudness envelopes: the natural log of each frame's RMS
    (plus :data:`LOUDNESS_FLOOR`), frames of ``frame`` samples; (B, T) each → scalar.

    Spectral convergence per segment (eval's figure) counts a decay's level as much as an
    attack's, while the batch's ratio is ruled by the loud crops; this term makes a tail that
    is three times too loud cost as much as one three times too quiet, at any level above
    the floor.
    """
    n = y.shape[-1] // frame * frame

    def env(x: Tensor) -> Tensor:  # (B, T) → (B, T // frame)
        rms = torch.sqrt(x[..., :n].unflatten(-1, (-1, frame)).pow(2).mean(-1) + 1e-12)
        return torch.log(rms + LOUDNESS_FLOOR)

    return F.l1_loss(env(y_hat), env(y))


#: amplitude floor of the harmonic term's log distance (a partial at -60 dBFS peak)
HARMONIC_FLOOR = 1e-3


def harmonic_loss(amps: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """How far the pitched decoder's harmonic amplitudes are from the audio's own: their
    spectral convergence (the relative L2 distance) plus the L1 distance of their logs (plus
    :data:`HARMONIC_FLOOR`), over the ``mask``'s entries; (B, H, F) each → scalar.
    The STFT terms reach the amplitudes only through the mix with the residual, which learns
    to stand in for partials; the bank with the exact amplitudes scores far better
    (docs/experiments.md, "Harmonic amplitudes")."""
    m = mask.to(amps.dtype)
    if not bool(mask.any()):
        return amps.new_zeros(())
    sc = torch.linalg.vector_norm((amps - target) * m) / torch.linalg.vector_norm(target * m).clamp(
        min=1e-3
    )
    logs = (torch.log(amps + HARMONIC_FLOOR) - torch.log(target + HARMONIC_FLOOR)).abs()
    return sc + (logs * m).sum() / m.sum()


def harmonic_item_loss(amps: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Each item's own relative L2 distance of the harmonic amplitudes from the audio's,
    averaged over the items whose masked targets are audible (norm above 1e-4); (B, H, F)
    each → scalar. Within an item the loud partials rule, as they rule eval's per-segment
    spectral convergence, and a quiet item counts as much as a loud one
    (:func:`harmonic_loss`'s ratio is the batch's, ruled by its loudest crops; its log
    distance weighs every partial alike)."""
    m = mask.to(amps.dtype)
    num = torch.linalg.vector_norm((amps - target) * m, dim=(1, 2))  # (B,)
    den = torch.linalg.vector_norm(target * m, dim=(1, 2))  # (B,)
    live = den > 1e-4
    if not bool(live.any()):
        return amps.new_zeros(())
    return (num[live] / den[live]).mean()


class MultiResolutionSTFTLoss(nn.Module):
    """Spectral convergence and log-magnitude L1 averaged over several FFT sizes.

    ``forward`` also returns the per-item spectral convergence: each audible crop's own
    ratio, averaged over the crops (what eval averages over its segments, where a quiet
    decay counts as much as a loud attack; the batch's ratio is ruled by its loudest crops).
    """

    def __init__(self, fft_sizes: tuple[int, ...] = (512, 1024, 2048)) -> None:
        super().__init__()
        self.fft_sizes = fft_sizes
        for n in fft_sizes:
            self.register_buffer(f"win{n}", torch.hann_window(n), persistent=False)

    def forward(self, y_hat: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(B, T) each → spectral convergence of the batch, log-magnitude L1, and the mean
        per-item spectral convergence of the audible crops (0 when none is)."""
        sc = y.new_zeros(())
        sc_item = y.new_zeros(())
        logmag = y.new_zeros(())
        audible = torch.sqrt(torch.mean(y.detach() ** 2, dim=1)) > SILENT_CROP_RMS  # (B,)
        for n in self.fft_sizes:
            w = getattr(self, f"win{n}")
            s_hat, s = _stft_mag(y_hat, n, w), _stft_mag(y, n, w)
            # over the whole batch (a near-silent crop alone would make it explode)
            num = torch.linalg.vector_norm(s - s_hat)
            den = torch.linalg.vector_norm(s).clamp(min=1e-3)
            sc = sc + num / den
            if bool(audible.any()):
                per = torch.linalg.vector_norm(s - s_hat, dim=(1, 2)) / torch.linalg.vector_norm(
                    s, dim=(1, 2)
                ).clamp(min=1e-3)  # (B,)
                sc_item = sc_item + per[audible].mean()
            eps = _floor(n)
            logmag = logmag + F.l1_loss(torch.log(s_hat + eps), torch.log(s + eps))
        k = len(self.fft_sizes)
        return sc / k, logmag / k, sc_item / k


class MelLoss(nn.Module):
    """L1 distance of log-mel spectrograms (natural log, floor 80 dB below full scale)."""

    window: Tensor
    fb: Tensor

    def __init__(
        self,
        sample_rate: int = 48000,
        n_fft: int = 2048,
        n_mels: int = 128,
        floor: float | None = None,
    ) -> None:
        super().__init__()
        self.n_fft = n_fft
        # None: add a floor 80 dB under full scale; a number: clamp at it (eval's 1e-5)
        self.floor = floor
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.register_buffer("fb", mel_filterbank(sample_rate, n_fft, n_mels), persistent=False)

    def log_mel(self, x: Tensor) -> Tensor:  # (B, T) → (B, M, S)
        mel = self.fb @ _stft_mag(x, self.n_fft, self.window)
        if self.floor is not None:
            return torch.log(torch.clamp(mel, min=self.floor))
        return torch.log(mel + _floor(self.n_fft))

    def forward(self, y_hat: Tensor, y: Tensor) -> Tensor:
        return F.l1_loss(self.log_mel(y_hat), self.log_mel(y))


class ReconstructionLoss(nn.Module):
    """The codec's training loss: weighted sum of STFT, mel and commitment terms."""

    cwin: Tensor

    def __init__(
        self,
        sample_rate: int = 48000,
        sc_weight: float = 3.0,
        sc_item_weight: float = 0.0,
        logmag_weight: float = 1.0,
        mel_weight: float = 1.0,
        commit_weight: float = 0.25,
        complex_weight: float = 0.0,
        loudness_weight: float = 0.0,
        harmonic_weight: float = 1.0,
        harmonic_item_weight: float = 0.0,
        mel_floor: float | None = None,
        fft_sizes: tuple[int, ...] = (512, 1024, 2048),
    ) -> None:
        super().__init__()
        self.stft = MultiResolutionSTFTLoss(fft_sizes)
        self.mel = MelLoss(sample_rate, floor=mel_floor)
        self.w = (sc_weight, logmag_weight, mel_weight, commit_weight)
        self.sc_item_weight = sc_item_weight  # the per-item spectral convergence's weight
        self.complex_weight = complex_weight
        self.loudness_weight = loudness_weight  # the loudness envelope's L1 (loudness_l1)
        self.harmonic_weight = harmonic_weight  # the pitched decoder's amplitudes (harmonic_loss)
        self.harmonic_item_weight = harmonic_item_weight  # per item (harmonic_item_loss)
        self.register_buffer("cwin", torch.hann_window(1024), persistent=False)

    def complex_sc(self, y_hat: Tensor, y: Tensor) -> Tensor:
        """Relative error of the complex STFT (n_fft 1024): magnitude and phase."""
        s_hat = torch.stft(y_hat, 1024, 256, window=self.cwin, return_complex=True)
        s = torch.stft(y, 1024, 256, window=self.cwin, return_complex=True)
        return torch.linalg.vector_norm(s - s_hat) / torch.linalg.vector_norm(s).clamp(min=1e-3)

    def forward(
        self,
        y_hat: Tensor,
        y: Tensor,
        commit: Tensor,
        harmonics: tuple[Tensor, Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, dict[str, float]]:
        """``harmonics``: a pitched decoder's amplitudes, their targets and mask, each
        (B, H, F) (:func:`~distill_live.model.harmonic.harmonic_targets`), for the harmonic
        terms; their weights are ignored without them."""
        sc, logmag, sc_item = self.stft(y_hat, y)
        mel = self.mel(y_hat, y)
        ws, wl, wm, wc = self.w
        total = ws * sc + self.sc_item_weight * sc_item + wl * logmag + wm * mel + wc * commit
        parts = {
            "sc": float(sc.detach()),
            "sc_item": float(sc_item.detach()),
            "logmag": float(logmag.detach()),
            "mel": float(mel.detach()),
            "commit": float(commit.detach()),
        }
        if self.complex_weight:
            csc = self.complex_sc(y_hat, y)
            total = total + self.complex_weight * csc
            parts["csc"] = float(csc.detach())
        if self.loudness_weight:
            loud = loudness_l1(y_hat, y)
            total = total + self.loudness_weight * loud
            parts["loudness"] = float(loud.detach())
        if self.harmonic_weight and harmonics is not None:
            harm = harmonic_loss(*harmonics)
            total = total + self.harmonic_weight * harm
            parts["harm"] = float(harm.detach())
        if self.harmonic_item_weight and harmonics is not None:
            harm_item = harmonic_item_loss(*harmonics)
            total = total + self.harmonic_item_weight * harm_item
            parts["harm_item"] = float(harm_item.detach())
        parts["loss"] = float(total.detach())
        return total, parts


class _ScaleDisc(nn.Module):
    window: Tensor

    def __init__(self, n_fft: int, ch: int = 32) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.convs = nn.ModuleList(
            [
                nn.Conv2d(1, ch, (3, 9), padding=(1, 4)),
                nn.Conv2d(ch, ch, (3, 9), stride=(1, 2), padding=(1, 4)),
                nn.Conv2d(ch, ch, (3, 9), stride=(1, 2), padding=(1, 4)),
                nn.Conv2d(ch, ch, (3, 3), padding=(1, 1)),
            ]
        )
        self.out = nn.Conv2d(ch, 1, (3, 3), padding=(1, 1))

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        mag = _stft_mag(x, self.n_fft, self.window)  # (B, bins, S)
        h = torch.log(mag + 1e-5).transpose(1, 2)[:, None]  # (B, 1, S, bins)
        feats = []
        for conv in self.convs:
            h = F.leaky_relu(conv(h), 0.1)
            feats.append(h)
        return self.out(h), feats


class SpectrogramDiscriminator(nn.Module):
    """Multi-resolution log-spectrogram discriminator for the ``--refine`` stage."""

    def __init__(self, fft_sizes: tuple[int, ...] = (512, 1024, 2048), ch: int = 32) -> None:
        super().__init__()
        self.scales = nn.ModuleList(_ScaleDisc(n, ch) for n in fft_sizes)

    def forward(self, x: Tensor) -> list[tuple[Tensor, list[Tensor]]]:
        return [d(x) for d in self.scales]


def hinge_d_loss(
    real: list[tuple[Tensor, list[Tensor]]], fake: list[tuple[Tensor, list[Tensor]]]
) -> Tensor:
    loss = real[0][0].new_zeros(())
    for (r, _), (f, _) in zip(real, fake, strict=True):
        loss = loss + F.relu(1 - r).mean() + F.relu(1 + f).mean()
    return loss / len(real)


def hinge_g_loss(fake: list[tuple[Tensor, list[Tensor]]]) -> Tensor:
    loss = fake[0][0].new_zeros(())
    for f, _ in fake:
        loss = loss + F.relu(1 - f).mean()
    return loss / len(fake)


def feature_matching_loss(
    real: list[tuple[Tensor, list[Tensor]]], fake: list[tuple[Tensor, list[Tensor]]]
) -> Tensor:
    loss = real[0][0].new_zeros(())
    n = 0
    for (_, rf), (_, ff) in zip(real, fake, strict=True):
        for a, b in zip(rf, ff, strict=True):
            loss = loss + F.l1_loss(b, a.detach()) / (a.detach().abs().mean() + 1e-5)
            n += 1
    return loss / max(n, 1)

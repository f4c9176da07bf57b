"""A playable model: a codec and a prior over its codes, plus where it came from."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from torch import nn

from .codec import Codec, CodecConfig
from .pitched import PitchedCodec, build_codec
from .prior import Prior, PriorConfig

__all__ = ["DistillModel", "build_model"]


class DistillModel(nn.Module):
    """A :class:`Codec` and a :class:`Prior` over its codes.

    ``header`` is the model file's JSON header (``None`` for a model built in memory),
    ``path`` the file it was loaded from and ``sha256`` that file's SHA-256 (hex).
    Its ``state_dict`` keys are ``codec.*`` and ``prior.*``: what the model file stores.
    """

    def __init__(
        self,
        codec: Codec | PitchedCodec,
        prior: Prior,
        header: dict[str, Any] | None = None,
        path: Path | None = None,
        sha256: str | None = None,
    ) -> None:
        super().__init__()
        if (prior.config.n_codebooks, prior.config.codebook_size) != (
            codec.n_codebooks,
            codec.codebook_size,
        ):
            raise ValueError(
                f"prior predicts {prior.config.n_codebooks} codebooks of "
                f"{prior.config.codebook_size} codes but the codec has {codec.n_codebooks} of "
                f"{codec.codebook_size}"
            )
        self.codec = codec
        self.prior = prior
        self.header = header
        self.path = path
        self.sha256 = sha256

    @property
    def codec_config(self) -> CodecConfig:
        return self.codec.config

    @property
    def prior_config(self) -> PriorConfig:
        return self.prior.config

    @property
    def sample_rate(self) -> int:
        return int(self.codec.sample_rate)

    @property
    def hop(self) -> int:
        """Audio samples per code frame."""
        return int(self.codec.hop)

    @property
    def frame_rate(self) -> float:
        """Code frames per second."""
        return self.sample_rate / self.hop

    @property
    def n_codebooks(self) -> int:
        return int(self.codec.n_codebooks)

    @property
    def codebook_size(self) -> int:
        return int(self.codec.codebook_size)

    @property
    def decoder_context(self) -> int:
        """Code frames of context needed on each side of a window for an exact decode."""
        return int(self.codec.decoder_context)

    def num_parameters(self) -> dict[str, int]:
        return {
            "codec": sum(p.numel() for p in self.codec.parameters()),
            "prior": sum(p.numel() for p in self.prior.parameters()),
        }

    def extra_repr(self) -> str:
        return f"path={self.path}, sample_rate={self.sample_rate}, hop={self.hop}"


def build_model(
    codec_config: CodecConfig | None = None,
    prior_config: PriorConfig | None = None,
    tiny: bool = False,
) -> DistillModel:
    """An untrained model of the real classes.

    Configs left as ``None`` take the defaults (``tiny=True``: the small test configs). The
    prior's ``n_codebooks`` and ``codebook_size`` are always taken from the codec.
    """
    if codec_config is None:
        codec_config = CodecConfig.tiny() if tiny else CodecConfig()
    if prior_config is None:
        prior_config = PriorConfig.tiny() if tiny else PriorConfig()
    prior_config = dataclasses.replace(
        prior_config,
        n_codebooks=codec_config.codes_per_frame,
        codebook_size=codec_config.codebook_size,
    )
    model = DistillModel(build_codec(codec_config), Prior(prior_config))
    return model.eval()

"""Model speed on one CPU thread: the prior's sampling and the codec's decoding.

    .venv/bin/python benchmarks/bench_model.py [--model PATH|default] [--runs 9] [--seconds 1]
        [--chunk N ...]

Uses the shipped default model if it exists (or ``--model``), else an untrained model built
with the default (non-tiny) configs: speed does not depend on the weights. Prints, as the
median (and min/max) of ``--runs`` runs, each after a warm-up:

* prior: time to sample the codes of ``--seconds`` of audio (``ceil(seconds * frame_rate)``
  frames, with sampling at temperature 1.0; also with top-k 40 + top-p 0.9; also two seeded
  streams in one batch), starting from a state whose KV cache is already full (the steady
  state of an endless stream);
* codec: time to turn those codes into audio (``codes_to_embeddings`` + ``decode``), alone
  and with ``decoder_context`` frames of context on each side (what a windowed engine pays);
  for a causal (pitched) codec also streamed (``decode_step``, each frame once: what the
  engine pays for it) in chunks of 1 and 2 frames and of the engine's decoder call (four
  frames: it hands out one-frame chunks from four-frame calls), or of ``--chunk``;
* their sum as a real-time factor.

``--untrained pitched`` builds an untrained model of train's default configs (the pitched
codec and a depth prior of d_model 160, as ``scripts/make_default_model.sh``).
Targets (issue 19): prior <= 0.1 s and streamed decode <= 0.02 s per second of audio.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

from distill_live.engine.generator import chunk_frames_for, decode_frames_for  # noqa: E402
from distill_live.model import DEFAULT_MODEL_PATH, DistillModel, build_model, load_model  # noqa: E402
from distill_live.model.codec import CodecConfig  # noqa: E402
from distill_live.model.pitched import PitchedCodec  # noqa: E402
from distill_live.model.prior import PriorConfig  # noqa: E402
from distill_live.model.sampling import SamplingParams, sample_code_sequence  # noqa: E402


def _time(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _fmt(ts: list[float]) -> str:
    return (
        f"median {statistics.median(ts) * 1e3:7.1f} ms   "
        f"(min {min(ts) * 1e3:.1f}, max {max(ts) * 1e3:.1f}, {len(ts)} runs)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--model", default=None, help="a .distill file or 'default'")
    ap.add_argument(
        "--untrained",
        nargs="?",
        const="plain",
        choices=("plain", "pitched"),
        help="an untrained model: plain (CodecConfig() defaults) or pitched (train's default)",
    )
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--seconds", type=float, default=1.0, help="audio per run (default 1)")
    ap.add_argument(
        "--chunk",
        type=int,
        nargs="+",
        default=None,
        help="frames per decode_step call for the streamed timing (default: 1, 2, the engine's)",
    )
    args = ap.parse_args(argv)

    model: DistillModel
    if args.model is not None:
        model = load_model(args.model)
        what = str(model.path)
    elif DEFAULT_MODEL_PATH.is_file() and not args.untrained:
        model = load_model("default")
        what = f"default model {model.path}"
    elif args.untrained == "pitched":
        torch.manual_seed(0)
        model = build_model(CodecConfig.pitched(), PriorConfig(d_model=160, depth=True))
        what = "untrained model with train's default (pitched) configs"
    else:
        torch.manual_seed(0)
        model = build_model()
        what = "untrained model with the default configs"
    model.eval()
    prior, codec = model.prior, model.codec
    n = math.ceil(args.seconds * model.frame_rate)
    pc = prior.config
    counts = model.num_parameters()
    print(f"model: {what}")
    print(
        f"  {model.sample_rate} Hz, hop {model.hop} ({model.frame_rate:.3f} frames/s), "
        f"{model.n_codebooks} x {model.codebook_size} codes, decoder context "
        f"{model.decoder_context} frames"
    )
    print(
        f"  prior d{pc.d_model} x {pc.n_layers} layers, window {pc.window}: "
        f"{counts['prior'] / 1e6:.2f} M params; codec {counts['codec'] / 1e6:.2f} M params"
    )
    print(f"  torch {torch.__version__}, {torch.get_num_threads()} thread")
    print(f"{args.seconds:g} s of audio = {n} code frames\n")

    g = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        warm = prior.initial_state(1)
        _, warm = sample_code_sequence(prior, warm, pc.window + 5, generator=g)  # full cache
        codes_holder: list[torch.Tensor] = []

        def prior_run(**kw: Any) -> Callable[[], object]:
            def run() -> None:
                sp = SamplingParams(**kw)
                codes, _ = sample_code_sequence(prior, warm.clone(), n, sampling=sp, generator=g)
                codes_holder[:] = [codes]

            return run

        t_prior = _time(prior_run(temperature=1.0), args.runs)
        t_prior_f = _time(prior_run(temperature=1.0, top_k=40, top_p=0.9), args.runs)
        # two seeded streams (dual-seed stereo) in one batched pass
        warm2 = prior.initial_state(2)
        gens = [torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)]
        _, warm2 = sample_code_sequence(prior, warm2, pc.window + 5, generator=gens)
        t_prior_2 = _time(
            lambda: sample_code_sequence(prior, warm2.clone(), n, generator=gens), args.runs
        )
        ctx = model.decoder_context
        _, st = sample_code_sequence(prior, warm.clone(), n + 2 * ctx, generator=g)
        codes_ctx, _ = sample_code_sequence(prior, st, n + 2 * ctx, generator=g)
        codes = codes_ctx[:, :, ctx : ctx + n]

        def decode(c: torch.Tensor) -> Callable[[], object]:
            return lambda: codec.decode(codec.codes_to_embeddings(c))

        t_dec = _time(decode(codes), args.runs)
        t_dec_ctx = _time(decode(codes_ctx), args.runs)
        # frames per decoder call in the engine (its chunks are handed out of those calls)
        pitched = isinstance(codec, PitchedCodec)
        engine_chunk = chunk_frames_for(model.hop, pitched)
        if pitched:
            engine_chunk = decode_frames_for(engine_chunk)
        chunks = args.chunk or sorted({1, 2, engine_chunk})
        t_streams: dict[int, list[float]] = {}
        if isinstance(codec, PitchedCodec):
            causal = codec

            def streamed(chunk: int) -> Callable[[], object]:
                def run() -> None:
                    state = causal.initial_state(1)
                    for a in range(0, n, chunk):
                        emb = causal.codes_to_embeddings(codes[:, :, a : a + chunk])
                        _, state = causal.decode_step(emb, state)

                return run

            for chunk in chunks:
                t_streams[chunk] = _time(streamed(chunk), args.runs)

    per = args.seconds
    print(f"prior, codes for {per:g} s (T=1.0):           {_fmt(t_prior)}")
    print(f"prior, codes for {per:g} s (top-k 40, top-p 0.9): {_fmt(t_prior_f)}")
    print(f"prior, codes for {per:g} s, 2 streams batched:  {_fmt(t_prior_2)}")
    print(f"  = {statistics.median(t_prior) / n * 1e3:.2f} ms per frame incl. sampling")
    print(f"codec decode of {per:g} s:                    {_fmt(t_dec)}")
    print(f"codec decode of {per:g} s + {ctx} frames context each side: {_fmt(t_dec_ctx)}")
    for chunk, ts in t_streams.items():
        print(f"codec decode of {per:g} s, streamed in {chunk}-frame chunks: {_fmt(ts)}")
    # as the engine decodes: streamed in its calls' frames (or the smallest asked for)
    t_stream = t_streams.get(engine_chunk) or (t_streams[min(t_streams)] if t_streams else None)
    rtf_p = statistics.median(t_prior) / per
    rtf_d = statistics.median(t_dec_ctx if t_stream is None else t_stream) / per
    print(
        f"\nper second of audio: prior {rtf_p:.3f} s (target <= 0.1), decode "
        f"{statistics.median(t_dec) / per:.3f} s, as the engine decodes "
        f"({'streamed' if t_stream is not None else 'with context'}) {rtf_d:.3f} s "
        f"(target <= 0.02 streamed); prior + decode: RTF {rtf_p + rtf_d:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

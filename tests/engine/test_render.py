"""Render determinism, streaming equals offline, automation, the render command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import torch

from distill_live.cli import main
from distill_live.engine.generator import Generator, SeededSampling, chunk_frames_for
from distill_live.engine.render import parse_automation, render, render_frames
from distill_live.engine.stream import AppliedChange, Change, Stream
from distill_live.errors import ControlError
from distill_live.model.sampling import sample_code_sequence
from distill_live.params import ParamValues

AUTOMATION = [
    {"time_s": 0.30, "param": "temperature", "value": 0.6},
    {"time_s": 0.305, "param": "gain", "value": -6.0},  # same boundary as 0.30
    {"time_s": 0.71, "param": "seed", "value": 42},
    {"time_s": 0.90, "param": "top_k", "value": 5},
    {"time_s": 1.20, "param": "width", "value": 1.8},
    {"time_s": 1.21, "param": "top_p", "value": 0.7},
]


@pytest.fixture(scope="module")
def tonal_model() -> Any:
    """The tiny model with the codec's tonal branch, whose phase is state the generator
    carries from window to window."""
    import dataclasses

    from distill_live.model import build_model
    from distill_live.model.codec import CodecConfig

    torch.manual_seed(4321)
    return build_model(dataclasses.replace(CodecConfig.tiny(), phase="tonal"), tiny=True)


@pytest.fixture(scope="module")
def packed_model() -> Any:
    """A tiny model whose codec packs four 256-sample sub-frames into each 1024-sample
    frame (the prior predicts 4 x 2 codes a step)."""
    import dataclasses

    from distill_live.model import build_model
    from distill_live.model.codec import CodecConfig

    torch.manual_seed(4322)
    return build_model(dataclasses.replace(CodecConfig.tiny(), hop=1024, pack=4), tiny=True)


@pytest.mark.parametrize("which", ["direct", "tonal", "packed"])
def test_windowed_decode_equals_whole_sequence_decode(
    tiny_model: Any, tonal_model: Any, packed_model: Any, which: str
) -> None:
    """Chunks decoded with decoder_context frames on each side, joined by the crossfade,
    equal one decode of the whole code sequence (within float rounding); with the tonal
    branch, given the decoder state the previous window reached."""
    model = {"direct": tiny_model, "tonal": tonal_model, "packed": packed_model}[which]
    gen = Generator(model, SeededSampling(seed=3), chunk_frames=2)
    stream = np.concatenate([gen.next_chunk() for _ in range(60)], axis=1)
    rng = torch.Generator()
    rng.manual_seed(3)
    n = 120 + 2 + model.decoder_context + 2
    codes, _ = sample_code_sequence(model.prior, model.prior.initial_state(1), n, generator=rng)
    with torch.inference_mode():
        whole = model.codec.decode(model.codec.codes_to_embeddings(codes)).numpy()
    ref = whole[:, : stream.shape[1]]
    assert np.max(np.abs(stream - ref)) < 1e-6 * max(1.0, float(np.max(np.abs(ref))))


@pytest.mark.parametrize(("hop", "frames"), [(256, 8), (512, 4), (1024, 2), (4096, 1)])
def test_default_chunk_is_about_2048_samples_whatever_the_hop(
    tiny_model: Any, hop: int, frames: int
) -> None:
    assert chunk_frames_for(hop) == frames
    # the generator, and so Stream, Engine and render, take it when no chunk_frames is given
    assert Generator(tiny_model, SeededSampling()).chunk == chunk_frames_for(tiny_model.hop)


def test_same_seed_is_bit_identical_and_another_seed_differs(tiny_model: Any) -> None:
    a = render_frames(tiny_model, 30000, params=ParamValues(seed=5))
    b = render_frames(tiny_model, 30000, params=ParamValues(seed=5))
    c = render_frames(tiny_model, 30000, params=ParamValues(seed=6))
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("stereo", ["mono", "mid-side", "dual-seed", "tonal"])
def test_block_size_and_lookahead_do_not_change_the_audio(
    tiny_model: Any, tonal_model: Any, stereo: str
) -> None:
    """Bit-identical: every change lands on the same chunk boundary whether the look-ahead
    was already past it (rolled back and regenerated) or not, and rolling back restores the
    exact prior, random, crossfade, decoder and filter states ("tonal": mono with the
    codec's tonal branch, whose phase is decoder state)."""
    if stereo == "tonal":
        tiny_model, stereo = tonal_model, "mono"
    auto = parse_automation(AUTOMATION)
    runs = [(256, 250.0), (64, 25.0), (1024, 900.0), (100, 77.0)]
    out = [
        render_frames(
            tiny_model, 72000, stereo=stereo, automation=auto, blocksize=b, lookahead_ms=la
        )
        for b, la in runs
    ]
    for other in out[1:]:
        assert np.array_equal(out[0], other)
    plain = render_frames(tiny_model, 72000, stereo=stereo)
    first = int(0.30 * 48000)
    assert np.array_equal(plain[:first], out[0][:first])  # nothing changes before the event
    assert not np.allclose(plain[first + 2048 :], out[0][first + 2048 :])


def test_changes_land_exactly_at_their_time(tiny_model: Any) -> None:
    seen: list[AppliedChange] = []
    render_frames(
        tiny_model,
        72000,
        automation=parse_automation(AUTOMATION),
        on_change=seen.append,
    )
    by_param = {c.param: c for c in seen}
    assert set(by_param) == {"temperature", "gain", "seed", "top_k", "width", "top_p"}
    for ev in AUTOMATION:
        ch = by_param[str(ev["param"])]
        assert ch.frame == round(float(str(ev["time_s"])) * 48000)  # spliced in, not a boundary
        assert ch.source == "automation"


def test_rollback_equals_applying_the_change_at_that_boundary(tiny_model: Any) -> None:
    """A change applied late (rolling back six chunks of look-ahead) gives the same stream
    as the same change applied when the generator reached that boundary."""

    def run(late: bool) -> np.ndarray:
        s = Stream(tiny_model, chunk_frames=2)
        out: list[np.ndarray] = []
        for i in range(30):
            if late and i == 20:
                res = s.apply([Change("temperature", 0.5)], s.out_pos - 6 * 512)
                assert res is not None
                frame = res[0]
                out = [np.concatenate(out)[:frame]]
            if not late and i == 14:
                s.apply([Change("temperature", 0.5)], s.out_pos)
            out.append(s.produce())
        return np.concatenate(out)

    a, b = run(True), run(False)
    n = min(len(a), len(b))
    assert np.array_equal(a[:n], b[:n])


def test_bad_automation_is_rejected_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(ControlError, match="unknown parameter 'volume'"):
        parse_automation([{"time_s": 0, "param": "volume", "value": 1}])
    with pytest.raises(ControlError, match="time_s"):
        parse_automation([{"time_s": -1, "param": "gain", "value": 1}])
    with pytest.raises(ControlError, match="exactly {time_s, param, value}"):
        parse_automation([{"t": 0, "param": "gain", "value": 1}])
    bad = tmp_path / "a.json"
    bad.write_text("{not json")
    assert (
        main(["render", str(tmp_path / "x.wav"), "--duration", "1", "--automation", str(bad)]) != 0
    )


def test_render_writes_file_and_sidecar(tiny_model: Any, tmp_path: Path) -> None:
    out = render(
        tiny_model,
        tmp_path / "r.wav",
        1.0,
        params=ParamValues(seed=3),
        stereo="mid-side",
        samplerate=44100,
        subtype="FLOAT",
        automation=AUTOMATION[:2],
    )
    data, rate = sf.read(out, dtype="float32")
    assert rate == 44100 and data.shape == (44100, 2)
    ref = render_frames(
        tiny_model,
        44100,
        params=ParamValues(seed=3),
        stereo="mid-side",
        samplerate=44100,
        automation=parse_automation(AUTOMATION[:2]),
    )
    assert np.array_equal(data, ref)  # FLOAT files hold the stream bit for bit
    side = json.loads(Path(str(out) + ".json").read_text())
    assert side["status"] == "complete"
    assert side["seed"] == 3 and side["stereo"] == "mid-side"
    assert {e["param"] for e in side["events"]} == {"temperature", "gain"}


def test_render_command_batch(tmp_path: Path) -> None:
    from distill_live.model import build_model, save_model

    model = tmp_path / "tiny.distill"
    save_model(build_model(tiny=True), model)
    auto = tmp_path / "auto.json"
    auto.write_text(json.dumps(AUTOMATION[:3]))
    out = tmp_path / "take.wav"
    argv = ["render", str(out), "--duration", "0.5", "--model", str(model), "--seed", "10"]
    argv += ["--batch", "2", "--subtype", "PCM_16", "--automation", str(auto), "--no-progress"]
    assert main(argv) == 0
    files = sorted(tmp_path.glob("take_seed*.wav"))
    assert [f.name for f in files] == ["take_seed10.wav", "take_seed11.wav"]
    a, _ = sf.read(files[0])
    b, _ = sf.read(files[1])
    assert a.shape == (24000,) and not np.allclose(a, b)
    for f in files:
        side = json.loads(Path(str(f) + ".json").read_text())
        assert side["audio"]["subtype"] == "PCM_16"
    # never overwritten without --force
    assert main(argv) == 2
    assert main([*argv, "--force"]) == 0


def test_setting_the_same_seed_again_restarts_the_random_stream(tiny_model: Any) -> None:
    plain = render_frames(tiny_model, 48000)
    again = render_frames(
        tiny_model,
        48000,
        automation=parse_automation([{"time_s": 0.5, "param": "seed", "value": 0}]),
    )
    cut = 24000
    assert np.array_equal(plain[:cut], again[:cut])
    assert not np.allclose(plain[cut + 2048 :], again[cut + 2048 :])
    same_temp = render_frames(
        tiny_model,
        48000,
        automation=parse_automation([{"time_s": 0.5, "param": "temperature", "value": 1.0}]),
    )
    assert np.array_equal(plain, same_temp)  # setting another parameter to its value: no-op

"""Training: a tiny model learns, resumes from its checkpoint, and runs under DDP (gloo)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from distill_live.commands.train import print_summary
from distill_live.engine.keyboard import KeyMap
from distill_live.errors import TrainingDataError
from distill_live.model import load_model, read_header
from distill_live.model.dataprep import noisy_context
from distill_live.model.train import keep_final_prior, train

ROOT = Path(__file__).resolve().parents[2]

#: Options that keep a training subprocess small and quiet.
_SMALL_RUN = [
    "--no-progress",
    "--threads",
    "1",
    "--batch-size",
    "4",
    "--crop-frames",
    "16",
    "--prior-frames",
    "32",
]


@pytest.fixture
def data_dir(shots_audio_dir: Path) -> Path:
    return shots_audio_dir


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _train_tiny(data_dir: Path, out: Path, steps: int = 40, **options: Any) -> dict[str, Any]:
    """A tiny model trained in process for ``steps`` codec and prior steps."""
    kw: dict[str, Any] = dict(
        tiny=True,
        codec_steps=steps,
        prior_steps=steps,
        progress=False,
        threads=1,
        batch_size=8,
        crop_frames=16,
        prior_frames=32,
        min_seconds=5.0,
        codec_lr=2e-3,
    )
    kw.update(options)
    return train(data_dir, out, **kw)


def test_tiny_model_trains_and_loss_falls(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.distill"
    summary = _train_tiny(data_dir, out)
    assert summary["codec_steps"] == 40 and summary["prior_steps"] == 40
    assert summary["codec_last_loss"] < 0.8 * summary["codec_first_loss"]
    assert summary["prior_last_bits"] < summary["prior_first_bits"] - 0.3
    # on held-out codes the prior already beats a uniform guess (log2 16 = 4 bits)
    assert summary["heldout_prior_bits"] < 3.8
    model = load_model(out)
    assert model.header is not None and model.header["training"]["codec_steps"] == 40
    assert model.n_codebooks == 2
    assert (out.parent / "m.distill.ckpt").exists()


def test_packed_codec_trains_and_its_prior_predicts_every_sub_frame(
    data_dir: Path, tmp_path: Path
) -> None:
    """--codec hop=1024 --codec pack=4: the codec trains at 256-sample sub-frames, keeps
    its first codebook for the prior (--prior-codebooks 1), and the prior predicts that
    codebook's 4 sub-frame codes per 1024-sample step."""
    out = tmp_path / "p.distill"
    summary = _train_tiny(
        data_dir,
        out,
        steps=30,
        crop_frames=4,
        prior_frames=16,
        prior_codebooks=1,
        codec_overrides={"hop": 1024, "pack": 4},
    )
    assert summary["codec_last_loss"] < 0.8 * summary["codec_first_loss"]
    assert summary["prior_last_bits"] < summary["prior_first_bits"] - 0.3
    model = load_model(out)
    assert (model.hop, model.n_codebooks, model.prior.config.n_codebooks) == (1024, 4, 4)
    assert model.codec.decoder.c.hop == 256
    assert model.header is not None and model.header["codec_config"]["pack"] == 4
    assert model.header["training"]["codebooks_kept"] == 1


def test_too_little_audio_is_a_training_data_error(
    tmp_path: Path, make_audio: Callable[..., Path]
) -> None:
    make_audio("short.wav", seconds=1.0, folder=tmp_path / "d")
    with pytest.raises(TrainingDataError, match="too little audio"):
        train(tmp_path / "d", tmp_path / "m.distill", tiny=True, steps=2, progress=False)
    with pytest.raises(TrainingDataError, match="no usable audio"):
        (tmp_path / "empty").mkdir()
        train(tmp_path / "empty", tmp_path / "m.distill", tiny=True, steps=2, progress=False)


def test_resume_continues_from_checkpoint(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kill a training run, resume it: steps continue from the checkpoint, weights restored."""
    out = tmp_path / "r.distill"
    ckpt = tmp_path / "r.ckpt"
    cmd = [
        sys.executable,
        "-m",
        "distill_live",
        "train",
        str(data_dir),
        "--out",
        str(out),
        "--tiny",
        "--codec-steps",
        "100000",
        "--prior-steps",
        "5",
        "--checkpoint",
        str(ckpt),
        "--checkpoint-minutes",
        "0.003",
        *_SMALL_RUN,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(), stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        saved = 0
        while time.monotonic() < deadline:
            if ckpt.exists():
                try:
                    state = torch.load(ckpt, weights_only=True)
                    saved = state["progress"]["steps"]["codec"]
                except (RuntimeError, EOFError, KeyError):  # mid-replace
                    saved = 0
                if saved >= 3:
                    break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)  # a crash: no chance to save anything more
    finally:
        proc.kill()
        proc.wait()
    state = torch.load(ckpt, weights_only=True)
    saved = state["progress"]["steps"]["codec"]
    assert saved >= 3 and state["progress"]["stage"] == "codec"
    assert not out.exists()
    # resume with a codec budget equal to what was done: no further codec steps, so the
    # codec in the model file must be exactly the checkpoint's
    summary = train(
        data_dir,
        out,
        tiny=True,
        codec_steps=saved,
        prior_steps=5,
        resume=True,
        checkpoint=ckpt,
        progress=False,
        threads=1,
        batch_size=4,
        crop_frames=16,
        prior_frames=32,
    )
    assert summary["codec_steps"] == saved
    assert summary["prior_steps"] == 5
    # the training time counts the killed run's codec minutes too, not only this run's
    spent = state["progress"]["spent"]
    assert spent["codec"] > 0
    assert summary["stage_seconds"]["codec"] >= round(spent["codec"], 1)
    # the printed time is the stages' (every run's), beside this run's wall time
    print_summary({**summary, "stage_seconds": {"codec": 600.0, "prior": 120.0}, "wall_seconds": 6})
    assert "12.0 min of training (0.1 min this run)" in capsys.readouterr().err
    model = load_model(out)
    for name, value in state["codec"].items():
        torch.testing.assert_close(
            model.codec.state_dict()[name], value.float() if value.is_floating_point() else value
        )
    # and a resume with a bigger budget continues counting from there
    after = torch.load(ckpt, weights_only=True)
    assert after["progress"]["stage"] == "done"
    assert after["progress"]["steps"]["codec"] == saved


def test_resume_extends_a_stage(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "e.distill"
    common: dict[str, Any] = dict(
        tiny=True, progress=False, threads=1, batch_size=4, crop_frames=16, prior_frames=32
    )
    ckpt = tmp_path / "e.ckpt"
    # a complete run of 4 codec steps and no prior steps
    train(data_dir, out, codec_steps=4, prior_steps=0, checkpoint=ckpt, **common)
    st = torch.load(ckpt, weights_only=True)["progress"]
    assert st["steps"]["codec"] == 4 and st["stage"] == "done"
    # mark its checkpoint as stopped in the codec stage; a resume with a budget of 7 codec
    # steps must do 3 more, then the prior
    state = torch.load(ckpt, weights_only=True)
    state["progress"]["stage"] = "codec"
    state["progress"]["steps"]["prior"] = 0
    torch.save(state, ckpt)
    summary = train(
        data_dir, out, codec_steps=7, prior_steps=2, checkpoint=ckpt, resume=True, **common
    )
    assert summary["codec_steps"] == 7  # 4 from before + 3 more
    assert summary["prior_steps"] == 2


def test_two_process_ddp_gloo(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp.distill"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "0",
        "--rdzv_backend",
        "c10d",
        "--rdzv_endpoint",
        "127.0.0.1:0",
        "-m",
        "distill_live",
        "train",
        str(data_dir),
        "--out",
        str(out),
        "--tiny",
        "--steps",
        "4",
        "--device",
        "cpu",
        *_SMALL_RUN,
    ]
    res = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    header = read_header(out)
    assert header["training"]["world_size"] == 2
    assert header["training"]["codec_steps"] == 4
    assert "2 process(es)" in res.stderr
    json.dumps(header)


def test_refine_changes_only_the_decoder(data_dir: Path, tmp_path: Path) -> None:
    """--refine: adversarial steps move the decoder; encoder and codebooks stay frozen."""
    common: dict[str, Any] = dict(
        tiny=True, progress=False, threads=1, batch_size=2, crop_frames=8, prior_frames=16
    )
    ckpt = tmp_path / "f.ckpt"
    train(data_dir, tmp_path / "a.distill", codec_steps=3, prior_steps=0, checkpoint=ckpt, **common)
    before = torch.load(ckpt, weights_only=True)["codec"]
    state = torch.load(ckpt, weights_only=True)
    state["progress"]["stage"] = "refine"
    torch.save(state, ckpt)
    summary = train(
        data_dir,
        tmp_path / "b.distill",
        codec_steps=3,
        refine=True,
        refine_steps=3,
        prior_steps=0,
        checkpoint=ckpt,
        resume=True,
        **common,
    )
    assert summary["refine_steps"] == 3
    after = load_model(tmp_path / "b.distill").codec.state_dict()
    for name, value in before.items():
        if name.startswith(("encoder.", "quantizer.")):
            torch.testing.assert_close(after[name], value, msg=name)
    assert not torch.equal(after["decoder.head.weight"], before["decoder.head.weight"])


def test_prior_codebooks_keeps_a_prefix(data_dir: Path, tmp_path: Path) -> None:
    """--prior-codebooks N: the prior and the saved model use the codec's first N codebooks;
    a checkpoint whose prior has not started may be resumed with a different N."""
    common: dict[str, Any] = dict(
        tiny=True, progress=False, threads=1, batch_size=4, crop_frames=16, prior_frames=32
    )
    ckpt = tmp_path / "p.ckpt"
    train(data_dir, tmp_path / "a.distill", codec_steps=3, prior_steps=0, checkpoint=ckpt, **common)
    state = torch.load(ckpt, weights_only=True)
    state["progress"]["stage"] = "prior"  # as if stopped as the prior stage began
    torch.save(state, ckpt)
    summary = train(
        data_dir,
        tmp_path / "b.distill",
        codec_steps=3,
        prior_steps=4,
        prior_codebooks=1,
        checkpoint=ckpt,
        resume=True,
        **common,
    )
    assert summary["codebooks_kept"] == 1 and summary["codec_codebooks_trained"] == 2
    model = load_model(tmp_path / "b.distill")
    assert model.n_codebooks == 1 and model.prior.config.n_codebooks == 1
    torch.testing.assert_close(model.codec.quantizer.embed[0], state["codec"]["quantizer.embed"][0])
    # the checkpoint now holds the truncated codec, and resuming it still works
    again = train(
        data_dir,
        tmp_path / "c.distill",
        codec_steps=3,
        prior_steps=4,
        prior_codebooks=1,
        checkpoint=ckpt,
        resume=True,
        **common,
    )
    assert again["codebooks_kept"] == 1
    with pytest.raises(ValueError, match="other prior settings .* add --restart-prior"):
        train(
            data_dir,
            tmp_path / "d.distill",
            codec_steps=3,
            prior_steps=4,
            prior_codebooks=2,
            checkpoint=ckpt,
            resume=True,
            **common,
        )


def test_truncated_codec_decodes_like_a_prefix() -> None:
    from distill_live.model.codec import Codec, CodecConfig

    codec = Codec(CodecConfig.tiny()).eval()
    with torch.no_grad():
        codec.quantizer.embed.normal_()
    short = codec.truncated(1)
    codes = torch.randint(0, 16, (1, 2, 12))
    with torch.inference_mode():
        a = codec.decode(codec.codes_to_embeddings(codes[:, :1]))
        b = short.decode(short.codes_to_embeddings(codes[:, :1]))
    torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="n_codebooks"):
        codec.truncated(3)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("mix", 1.5, "--mix 1.5"),
        ("pitch_shift", -1.0, "--pitch-shift -1.0"),
        ("prior_input_noise", 1.0, "--prior-input-noise 1.0"),
        ("prior_keep", "best", "--prior-keep 'best'"),
        ("prior_varispeed", (1.0, 0.0), "--prior-varispeed 0.0"),
        ("prior_own_share", 1.5, "--prior-own-share 1.5"),
        ("prior_transpose", (-1.0,), "--prior-transpose -1.0"),
    ],
)
def test_bad_augmentation_options_are_refused_before_any_work(
    tmp_path: Path, option: str, value: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        kw: dict[str, Any] = {option: value}
        train(tmp_path / "no-such-folder", tmp_path / "m.distill", minutes=1.0, **kw)
    assert not (tmp_path / "m.distill").exists()


def test_prior_transpose_needs_a_pitched_codec(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--prior-transpose moves pitch codes"):
        train(data_dir, tmp_path / "m.distill", tiny=True, steps=2, prior_transpose=(1.0,))
    assert not (tmp_path / "m.distill").exists()


def test_a_pitched_prior_trains_with_transposed_codes(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.distill"
    pitched = {"pitch": True, "n_codebooks": 3, "pitch_low_note": 45.0, "pitch_step_cents": 100.0}
    summary = _train_tiny(
        data_dir, out, steps=20, codec_overrides=pitched, prior_transpose=(1.0, 2.0)
    )
    assert summary["prior_last_bits"] < summary["prior_first_bits"]
    header = read_header(out)
    assert header["training"]["options"]["prior_transpose"] == [1.0, 2.0]
    # a pitched model's file holds the keyboard's key table: every key of its grid
    table = header["training"]["key_quality"]
    assert table["low_key"] == 45 and len(table["quality"]) == 15  # 45..59, 100-cent steps
    assert all(0.0 <= q <= 1.0 for q in table["quality"])
    assert KeyMap.of(load_model(out)) == KeyMap(45, tuple(table["quality"]))


def test_noisy_context_replaces_the_given_share_of_codes() -> None:
    codes = torch.randint(0, 8, (4, 3, 20_000))
    assert noisy_context(codes, 0.0, 8) is codes
    noisy = noisy_context(codes, 0.3, 8, torch.Generator().manual_seed(1))
    assert noisy.shape == codes.shape and noisy.dtype == codes.dtype
    assert int(noisy.min()) >= 0 and int(noisy.max()) < 8
    # a replaced code is drawn uniformly, so 1 in 8 replacements lands on the same code
    changed = float((noisy != codes).float().mean())
    assert abs(changed - 0.3 * 7 / 8) < 0.01
    again = noisy_context(codes, 0.3, 8, torch.Generator().manual_seed(1))
    assert torch.equal(noisy, again)


def test_prior_trains_with_input_noise(data_dir: Path, tmp_path: Path) -> None:
    summary = _train_tiny(data_dir, tmp_path / "m.distill", prior_input_noise=0.2)
    # the targets stay clean: the prior still learns the held-out codes
    assert summary["prior_last_bits"] < summary["prior_first_bits"] - 0.3
    assert summary["heldout_prior_bits"] < 3.8
    header = read_header(tmp_path / "m.distill")
    assert header["training"]["options"]["prior_input_noise"] == 0.2


def test_keep_final_prior() -> None:
    assert keep_final_prior("final", 5.05, 4.54)  # the end of the schedule, whatever it scores
    assert not keep_final_prior("lowest", 5.05, 4.54)
    assert keep_final_prior("lowest", 4.50, 4.54)  # the final weights are the lowest
    assert keep_final_prior("lowest", 9.0, None)  # nothing validated before the end


@pytest.mark.parametrize("keep", ["final", "lowest"])
def test_saved_prior_follows_prior_keep(data_dir: Path, tmp_path: Path, keep: str) -> None:
    """Validated every step: "lowest" saves the state with the lowest held-out bits, "final"
    the last one; the summary says which step was saved and which scored lowest. --resume
    of the complete run with the other choice writes the model again with the other one."""
    ckpt = tmp_path / "m.distill.ckpt"
    final: dict[str, torch.Tensor] = {}
    for i, choice in enumerate((keep, "final" if keep == "lowest" else "lowest")):
        out = tmp_path / f"m{i}.distill"
        summary = _train_tiny(  # a high learning rate: the held-out bits rise again
            data_dir,
            out,
            validate_every_s=0.0,
            prior_lr=0.03,
            prior_keep=choice,
            checkpoint=ckpt,
            resume=i > 0,
        )
        lowest_step = summary["prior_lowest_heldout_step"]
        lowest_bits = summary["prior_lowest_heldout_bits"]
        assert 1 <= lowest_step < summary["prior_steps"] == 40
        assert summary["heldout_prior_bits"] >= lowest_bits
        saved = load_model(out).prior.state_dict()
        final = final or torch.load(ckpt, weights_only=True)["prior"]
        same_as_final = all(torch.equal(saved[k], final[k]) for k in final)
        if choice == "lowest":
            assert summary["prior_best_step"] == lowest_step
            assert summary["heldout_prior_bits"] == lowest_bits
            assert not same_as_final
        else:
            assert summary["prior_best_step"] == 40 and same_as_final


def test_overrides_take_the_type_of_the_setting() -> None:
    """``--prior depth=false`` is False (the text "false" would be truthy), numbers are
    checked against the setting's type, and anything else names what was expected."""
    from distill_live.commands.train import parse_overrides as _overrides
    from distill_live.errors import TrainingOptionError
    from distill_live.model.codec import CodecConfig
    from distill_live.model.prior import PriorConfig
    from distill_live.model.train_options import with_overrides as _with_overrides

    def prior(*items: str) -> PriorConfig:
        return _with_overrides(PriorConfig(), _overrides(list(items), "--prior"), "--prior")

    assert prior("depth=false").depth is False
    assert prior("depth=true").depth is True and prior("depth=1").depth is True
    assert prior("dropout=0").dropout == 0.0 and isinstance(prior("dropout=0").dropout, float)
    codec = _with_overrides(CodecConfig(), _overrides(["phase=tonal"], "--codec"), "--codec")
    assert codec.phase == "tonal"
    for item, expected in [
        ("depth=maybe", "expected true or false"),
        ("n_layers=2.5", "expected a whole number"),
        ("dropout=lots", "expected a number"),
    ]:
        with pytest.raises(TrainingOptionError, match=expected):
            prior(item)
    with pytest.raises(ValueError, match="depth must be true or false"):
        PriorConfig(depth="false")  # type: ignore[arg-type]

    # a setting that may be None takes "none" (pitched(): the level gate on, -60 dBFS)
    def pitched(*items: str) -> CodecConfig:
        return _with_overrides(CodecConfig.pitched(), _overrides(list(items), "--codec"), "--codec")

    assert CodecConfig.pitched().pitch_gate_db == -60.0
    assert pitched("pitch_gate_db=none").pitch_gate_db is None
    assert pitched("pitch_gate_db=-40").pitch_gate_db == -40.0
    with pytest.raises(TrainingOptionError, match="pitch_gate_db=loud: expected a number"):
        pitched("pitch_gate_db=loud")
    with pytest.raises(TrainingOptionError, match=r"pitch_gate_db must be None .* in -120..0"):
        pitched("pitch_gate_db=6")


def test_restart_prior_keeps_the_codec_and_trains_a_new_prior(
    data_dir: Path, tmp_path: Path
) -> None:
    """--resume --restart-prior on a finished checkpoint: the same codec, a prior trained
    afresh with other settings (here a depth stage), and its mistakes refused up front."""
    common: dict[str, Any] = dict(
        tiny=True, progress=False, threads=1, batch_size=4, crop_frames=16, prior_frames=32
    )
    ckpt = tmp_path / "r.ckpt"
    train(data_dir, tmp_path / "a.distill", codec_steps=3, prior_steps=3, checkpoint=ckpt, **common)
    first = load_model(tmp_path / "a.distill")
    assert first.prior.config.depth is False
    summary = train(
        data_dir,
        tmp_path / "b.distill",
        codec_steps=3,
        prior_steps=5,
        prior_overrides={"depth": True},
        checkpoint=ckpt,
        resume=True,
        restart_prior=True,
        **common,
    )
    assert summary["prior_steps"] == 5 and summary["codec_steps"] == 3
    second = load_model(tmp_path / "b.distill")
    assert second.prior.config.depth is True
    for name, tensor in first.codec.state_dict().items():
        torch.testing.assert_close(second.codec.state_dict()[name], tensor)
    with pytest.raises(ValueError, match="--restart-prior needs --resume"):
        train(data_dir, tmp_path / "c.distill", steps=2, restart_prior=True, **common)
    # the prior may keep fewer codebooks; once the codec is cut to them, no more
    restart: dict[str, Any] = dict(
        codec_steps=3, prior_steps=2, checkpoint=ckpt, resume=True, restart_prior=True
    )
    one = train(data_dir, tmp_path / "d.distill", prior_codebooks=1, **restart, **common)
    assert one["codebooks_kept"] == 1
    with pytest.raises(ValueError, match="already cut"):
        train(data_dir, tmp_path / "e.distill", prior_codebooks=2, **restart, **common)


def test_restart_prior_may_change_the_level_gate_only(data_dir: Path, tmp_path: Path) -> None:
    """A pitched codec's level gate changes its codes, not its weights: --restart-prior takes
    a new one (same codec weights, the new gate in the file); a plain --resume refuses it,
    and --restart-prior refuses a setting that changes the networks, naming it. The
    residual's dither changes neither: a plain --resume takes it."""
    common: dict[str, Any] = dict(
        tiny=True, progress=False, threads=1, batch_size=4, crop_frames=16, prior_frames=32
    )
    pitched: dict[str, Any] = {"pitch": True, "n_codebooks": 3, "pitch_low_note": 45.0}
    ckpt = tmp_path / "g.ckpt"
    first_out = tmp_path / "a.distill"
    train(
        data_dir, first_out, codec_steps=2, prior_steps=2, checkpoint=ckpt,
        codec_overrides=pitched, **common,
    )  # fmt: skip
    first = load_model(first_out)
    assert first.codec.config.pitch_gate_db is None
    gated = {**pitched, "pitch_gate_db": -40.0}
    again: dict[str, Any] = dict(codec_steps=2, prior_steps=3, checkpoint=ckpt, resume=True)
    with pytest.raises(ValueError, match=r"pitch_gate_db None there, -40.0 here.*--restart-prior"):
        train(data_dir, tmp_path / "b.distill", codec_overrides=gated, **again, **common)
    with pytest.raises(ValueError, match="dec_layers 2 there, 3 here"):
        train(
            data_dir, tmp_path / "c.distill", codec_overrides={**gated, "dec_layers": 3},
            restart_prior=True, **again, **common,
        )  # fmt: skip
    summary = train(
        data_dir, tmp_path / "d.distill", codec_overrides=gated, restart_prior=True,
        **again, **common,
    )  # fmt: skip
    assert summary["prior_steps"] == 3
    second = load_model(tmp_path / "d.distill")
    assert second.codec.config.pitch_gate_db == -40.0
    for name, tensor in first.codec.state_dict().items():
        torch.testing.assert_close(second.codec.state_dict()[name], tensor)
    # the dither changes no weight and no code: a plain resume of a finished run takes it
    train(
        data_dir, tmp_path / "e.distill", codec_overrides={**gated, "residual_dither": 0.5},
        **again, **common,
    )  # fmt: skip
    third = load_model(tmp_path / "e.distill")
    assert third.codec.config.residual_dither == 0.5
    for name, tensor in second.state_dict().items():
        torch.testing.assert_close(third.state_dict()[name], tensor)

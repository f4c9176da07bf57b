"""The keyboard: last-note priority and sustain (pure logic), the plan it makes, and a pitched
model steered by it (codes on the note, decoded pitch, gate, velocity, transpose, replay)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch

from distill_live.engine.keyboard import KEY_REACH, NOTE_CENTS, Keyboard, KeyMap, Steer, plan
from distill_live.engine.render import parse_automation, render_frames
from distill_live.engine.stream import Change, Stream
from distill_live.model import load_model
from distill_live.model.pitch import PitchGrid, track
from distill_live.params import ParamValues
from distill_live.scales import scale_pitch_classes, velocity_gain

GRID = PitchGrid()
RATE = 48000 / 1024


def test_last_note_priority_returns_to_the_key_still_held() -> None:
    kb = Keyboard()
    kb.note(60, 100)
    kb.note(64, 90)
    assert kb.current == (64, 90)
    kb.note(67, 80)
    kb.note(64, 0)  # a key that is not the sounding one goes up: nothing changes
    assert kb.current == (67, 80)
    kb.note(67, 0)  # the sounding one goes up: back to the key still held
    assert kb.current == (60, 100)
    kb.note(60, 0)
    assert kb.current is None


def test_sustain_holds_released_keys_until_the_pedal_comes_up() -> None:
    kb = Keyboard()
    kb.set_sustain(True)
    kb.note(57, 100)
    kb.note(57, 0)
    assert kb.current == (57, 100)
    kb.note(60, 70)  # a new key still takes over
    kb.note(60, 0)
    assert kb.current == (60, 70)
    kb.note(62, 50)  # held through the pedal release
    kb.set_sustain(False)
    assert kb.current == (62, 50)
    kb.note(62, 0)
    assert kb.current is None
    kb.note(40, 1)
    kb.all_off()
    assert kb.current is None


def test_plan_holds_the_prior_to_the_note_and_folds_octaves_into_the_grid() -> None:
    kb = Keyboard()
    kb.note(57, 127)
    st = plan(kb, ParamValues(), 10, None, GRID, RATE)
    notes = GRID.low_note + (np.array(st.allowed) - 1) * GRID.step_cents / 100
    assert st.allowed and np.all(np.abs(notes - 57) * 100 <= NOTE_CENTS + 1e-9)
    assert st.gain == pytest.approx(1.0) and st.offsets(np.arange(10, 13)).tolist() == [0.0] * 3
    kb.note(110, 64)  # above the grid: played an octave or two down, moved back at decoding
    st = plan(kb, ParamValues(transpose=-3), 10, st, GRID, RATE)
    assert st.note is not None and GRID.low_note <= st.note <= GRID.high_note
    assert st.note + st.octaves == 110 and st.offsets(np.array([10]))[0] == st.octaves - 3
    assert st.gain == pytest.approx(velocity_gain(64))


def test_a_poorly_held_key_is_drawn_as_the_best_key_nearby() -> None:
    km = KeyMap(60, (0.9, 0.3, 0.95, 0.2, 0.85, 0.1, 0.1, 0.1, 0.1))  # keys 60..68
    assert km.source(60) == 60 and km.source(62) == 62  # held well: itself
    assert km.source(61) == 62  # 0.95 - 0.05 beats 0.9 - 0.05: the better neighbour
    assert km.source(63) == 62  # 0.95 - 0.05 > 0.85 - 0.05
    assert km.source(66) == 64  # two semitones away at most: 0.85 - 0.1
    assert km.source(68) == 68  # nothing better within reach: itself
    assert km.source(40) == 40 and km.get(40) is None  # outside the table: itself
    assert abs(km.source(65) - 65) <= KEY_REACH


def test_plan_draws_a_poorly_held_key_as_its_source_and_moves_it_back() -> None:
    km = KeyMap(60, (0.9, 0.3, 0.95))
    kb = Keyboard()
    kb.note(61, 100)
    st = plan(kb, ParamValues(transpose=2), 5, None, GRID, RATE, km)
    assert st.note == 62 and st.octaves == -1  # the codes of 62, decoded a semitone down
    assert st.key_pitch(5) == 61 and st.offsets(np.array([5]))[0] == 1  # + transpose 2
    want = plan(kb, ParamValues(), 5, None, GRID, RATE)  # without the table: 61's own codes
    notes = GRID.low_note + (np.array(st.allowed) - 1) * GRID.step_cents / 100
    assert np.all(np.abs(notes - 62) * 100 <= NOTE_CENTS + 1e-9) and st.allowed != want.allowed
    # holding it on keeps the plan (its glide goes on); a key held well is itself
    assert plan(kb, ParamValues(transpose=2), 9, st, GRID, RATE, km) == st
    kb.note(60, 100)
    assert plan(kb, ParamValues(), 9, st, GRID, RATE, km).note == 60


def test_key_map_comes_from_the_model_file_header() -> None:
    class Model:
        def __init__(self, header: Any) -> None:
            self.header = header

    table = {"low_key": 33, "quality": [0.5, 1.0], "seconds": 3.0, "seeds": [0], "tracker": "world"}
    assert KeyMap.of(Model({"training": {"key_quality": table}})) == KeyMap(33, (0.5, 1.0))
    assert KeyMap.of(Model(None)) is None  # a model built in memory
    assert KeyMap.of(Model({"training": {}})) is None  # a file from before key tables
    assert KeyMap.of(Model({"training": {"key_quality": {"low_key": "x"}}})) is None


def test_plan_scale_allows_only_codes_on_the_scale_after_transpose() -> None:
    st = plan(Keyboard(), ParamValues(scale="C minor pentatonic", transpose=2), 0, None, GRID, 1)
    assert st.allowed is not None and st.allowed[0] == 0  # "unpitched" stays allowed
    pitch = GRID.low_note + (np.array(st.allowed[1:]) - 1) * GRID.step_cents / 100 + 2
    pcs = scale_pitch_classes("C minor pentatonic")
    assert pcs is not None and set(np.round(pitch).astype(int) % 12) == set(pcs)
    assert np.all(np.abs(pitch - np.round(pitch)) <= 0.25 + 1e-9)
    assert plan(Keyboard(), ParamValues(), 0, None, GRID, 1).allowed is None


def test_plan_glides_from_the_pitch_that_sounded_and_gate_fades_the_last_note() -> None:
    kb = Keyboard()
    kb.note(60, 100)
    params = ParamValues(glide=100.0, keys="gate")
    first = plan(kb, params, 0, None, GRID, RATE)
    kb.note(67, 100)
    second = plan(kb, params, 20, first, GRID, RATE)
    frames = np.arange(20, 20 + 10)
    off = second.offsets(frames)
    assert off[0] == pytest.approx(-7.0) and off[-1] == 0.0 and np.all(np.diff(off) >= 0)
    assert second.glide_frames == pytest.approx(0.1 * RATE)
    kb.note(67, 0)
    back = plan(kb, params, 22, second, GRID, RATE)  # the key still held, gliding back
    assert back.note == 60 and back.glide_from > 0
    kb.note(60, 0)
    released = plan(kb, params, 23, second, GRID, RATE)
    assert released.gain == 0.0 and released.allowed == second.allowed  # pitch kept, fading
    assert plan(Keyboard(), ParamValues(keys="gate"), 0, None, GRID, RATE).gain == 0.0
    assert plan(Keyboard(), ParamValues(keys="gate"), 0, None, None, RATE) == Steer(gain=0.0)


# ---------------------------------------------------------------- a pitched model steered


@pytest.fixture(scope="module")
def pitched_model() -> Any:
    from distill_live.model import build_model
    from distill_live.model.codec import CodecConfig

    torch.manual_seed(7)
    cfg = dataclasses.replace(CodecConfig.tiny(), pitch=True, n_codebooks=3, harmonics=8)
    return build_model(cfg, tiny=True)


def _codes_after(model: Any, changes: list[Change], frames: int = 12) -> torch.Tensor:
    stream = Stream(model, ParamValues(seed=5), out_rate=48000, channels=1)
    for _ in range(3):
        stream.produce()
    res = stream.apply(changes, 0)
    assert res is not None
    start = stream.gen.emitted
    for _ in range(frames):
        stream.produce()
    codes = stream.gen.codes
    return codes[:, :, start - stream.gen.codes_start :]


def test_a_held_key_rolls_back_and_draws_only_its_pitch_codes(pitched_model: Any) -> None:
    grid = pitched_model.codec.grid
    free = _codes_after(pitched_model, [])
    held = _codes_after(pitched_model, [Change("note", 35, velocity=100)])
    allowed = set(grid.note_codes(35.0, NOTE_CENTS).tolist())
    assert set(held[0, 0].tolist()) <= allowed
    assert not set(free[0, 0].tolist()) <= allowed  # the untrained prior wanders


def test_transpose_and_bend_decode_the_same_codes_at_another_pitch(pitched_model: Any) -> None:
    plain = _codes_after(pitched_model, [Change("note", 35, velocity=100)])
    moved = _codes_after(
        pitched_model,
        [Change("note", 35, velocity=100), Change("transpose", 7), Change("bend", 0.5)],
    )
    assert torch.equal(plain, moved)  # the prior plays the key; the shift is at decoding


def _render(model: Any, seconds: float, auto: list[dict[str, Any]], **params: Any) -> np.ndarray:
    return render_frames(
        model,
        int(seconds * 48000),
        params=ParamValues(seed=3, **params),
        samplerate=48000,
        automation=parse_automation(auto),
    )[:, 0]


def test_the_default_model_sounds_the_held_note_and_its_transposition() -> None:
    """The shipped model, tracked by WORLD (not the pitch codebook's own tracker): A3, A3
    transposed to E4, and the first key from G3 to B4 that its key table says it holds
    poorly: drawn as a neighbour, moved back to that key."""
    model = load_model(None)
    keymap = KeyMap.of(model)
    assert keymap is not None
    poor = [k for k in range(55, 72) if keymap.source(k) != k]
    assert poor, "the key table holds every key from G3 to B4: nothing to move back"
    for note, transpose, want in ((57, 0, 57), (57, 7, 64), (poor[0], 0, poor[0])):
        key = [{"time_s": 0.0, "param": "note", "value": note, "velocity": 127}]
        audio = _render(model, 4.0, key, transpose=transpose)
        t = track(audio.astype(np.float64), 48000, "world")
        f0 = t.f0[t.f0 > 0]
        midi = 69 + 12 * np.log2(f0 / 440)
        assert len(midi) > 0.3 * len(t.f0), f"few pitched frames: {len(midi)} of {len(t.f0)}"
        assert np.mean(np.abs(midi - want) < 0.5) > 0.7, np.median(midi)


def test_gate_is_silent_without_a_key_and_velocity_scales_the_level(pitched_model: Any) -> None:
    silent = _render(pitched_model, 1.0, [], keys="gate")
    assert np.max(np.abs(silent)) < 1e-6
    loud_key = [{"time_s": 0.2, "param": "note", "value": 60, "velocity": 127}]
    soft_key = [{"time_s": 0.2, "param": "note", "value": 60, "velocity": 64}]
    loud = _render(pitched_model, 1.0, loud_key, keys="gate", gain=-30.0)
    soft = _render(pitched_model, 1.0, soft_key, keys="gate", gain=-30.0)
    assert np.max(np.abs(loud[: int(0.15 * 48000)])) < 1e-6 < np.max(np.abs(loud))
    tail = slice(int(0.5 * 48000), None)  # past the attack ramp: the same codes, scaled
    ratio = np.sqrt(np.mean(soft[tail] ** 2) / np.mean(loud[tail] ** 2))
    assert ratio == pytest.approx(velocity_gain(64), rel=1e-3)


def test_notes_render_the_same_whatever_the_block_size_and_lookahead(pitched_model: Any) -> None:
    auto = parse_automation(
        [
            {"time_s": 0.10, "param": "note", "value": 60, "velocity": 100},
            {"time_s": 0.33, "param": "note", "value": 67, "velocity": 80},
            {"time_s": 0.40, "param": "bend", "value": -0.5},
            {"time_s": 0.52, "param": "note", "value": 67, "velocity": 0},
            {"time_s": 0.70, "param": "sustain", "value": 1},
            {"time_s": 0.71, "param": "note", "value": 48, "velocity": 30},
            {"time_s": 0.80, "param": "note", "value": 48, "velocity": 0},
            {"time_s": 0.95, "param": "notes_off", "value": 0},
        ]
    )
    outs = [
        render_frames(
            pitched_model,
            48000 * 6 // 5,
            params=ParamValues(seed=4, glide=40.0),
            automation=auto,
            blocksize=block,
            lookahead_ms=look,
        )
        for block, look in ((256, 250.0), (64, 25.0), (1024, 900.0))
    ]
    assert all(np.array_equal(outs[0], o) for o in outs[1:])

"""The .distill model file: round trip, and every way a file can be bad."""

from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from distill_live.errors import ModelFileError
from distill_live.model import build_model, load_model, read_header, save_model
from distill_live.model.files import DEFAULT_MODEL_PATH, FORMAT_VERSION

SUMMARY = {"data_seconds": 321.5, "steps": 12, "seconds": 40.0, "metrics": {"mel_l1": 0.3}}


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(tiny=True)


@pytest.fixture
def saved(model, tmp_path: Path) -> Path:
    return save_model(model, tmp_path / "m.distill", SUMMARY)


def _outputs(m) -> tuple[torch.Tensor, torch.Tensor]:
    codes = torch.arange(2 * 12).reshape(1, 2, 12) % m.codebook_size
    with torch.inference_mode():
        audio = m.codec.decode(m.codec.codes_to_embeddings(codes))
        logits = m.prior(codes)
    return audio, logits


def test_round_trip_gives_identical_tensors_and_outputs(model, saved: Path) -> None:
    loaded = load_model(saved)
    a, b = model.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    for x, y in zip(_outputs(model), _outputs(loaded), strict=True):
        assert torch.equal(x, y)
    assert loaded.header is not None
    assert loaded.header["training"] == SUMMARY
    assert loaded.header["format_version"] == FORMAT_VERSION
    assert (loaded.sample_rate, loaded.hop, loaded.n_codebooks, loaded.codebook_size) == (
        model.sample_rate,
        model.hop,
        model.n_codebooks,
        model.codebook_size,
    )
    assert loaded.decoder_context == model.decoder_context
    assert loaded.path == saved.resolve()
    import hashlib

    assert loaded.sha256 == hashlib.sha256(saved.read_bytes()).hexdigest()
    assert not loaded.training


def test_half_precision_file_loads_as_float32(model, tmp_path: Path) -> None:
    full = save_model(model, tmp_path / "f.distill")
    half = save_model(model, tmp_path / "h.distill", half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded = load_model(half)
    for name, t in model.state_dict().items():
        u = loaded.state_dict()[name]
        assert u.dtype == t.dtype, name
        if t.is_floating_point():
            assert torch.equal(u, t.half().float()), name
    assert read_header(half)["tensor_dtype"] == "float16"


def test_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nope.distill"
    with pytest.raises(ModelFileError, match="nope.distill.*does not exist"):
        load_model(p)


def test_default_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model) -> None:
    if DEFAULT_MODEL_PATH.is_file():
        m = load_model("default")
        assert m.path == DEFAULT_MODEL_PATH and load_model(None).sha256 == m.sha256
    import distill_live.model.files as files

    monkeypatch.setattr(files, "DEFAULT_MODEL_PATH", tmp_path / "default" / "default.distill")
    with pytest.raises(ModelFileError, match="default model has not been trained"):
        load_model("default")
    save_model(model, files.DEFAULT_MODEL_PATH)
    assert load_model(None).path == files.DEFAULT_MODEL_PATH.resolve()


@pytest.mark.parametrize("keep", [0, 5, 8, 40, "header", "half", "last"])
def test_truncated_file(saved: Path, keep: object) -> None:
    data = saved.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    cut = {"header": 8 + n // 2, "half": (8 + n + len(data)) // 2, "last": len(data) - 1}.get(
        str(keep), keep
    )
    saved.write_bytes(data[: int(cut)])  # type: ignore[call-overload]
    with pytest.raises(ModelFileError, match=r"m\.distill.*(truncated|not a distill_live model)"):
        load_model(saved)


def test_truncated_tensors_are_reported_as_truncated(saved: Path) -> None:
    data = saved.read_bytes()
    saved.write_bytes(data[:-100])
    with pytest.raises(ModelFileError, match=r"m\.distill is truncated"):
        load_model(saved)
    # the header is still checkable without the tensors
    assert read_header(saved)["training"] == SUMMARY


@pytest.mark.parametrize("where", [0.3, 0.6, 0.99])
def test_flipped_bytes_in_tensors(saved: Path, where: float) -> None:
    data = bytearray(saved.read_bytes())
    (n,) = struct.unpack("<Q", data[:8])
    i = 8 + n + int(where * (len(data) - 8 - n - 1))
    data[i] ^= 0x10
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"m\.distill is corrupt: content hash mismatch"):
        load_model(saved)


def test_flipped_byte_in_header(saved: Path) -> None:
    data = bytearray(saved.read_bytes())
    i = data.find(b"data_seconds")
    j = data.find(b"321.5", i)
    data[j] = ord("9")  # 921.5: still valid JSON, silently different unless hashed
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"m\.distill is corrupt"):
        load_model(saved)


def test_wrong_magic(tmp_path: Path) -> None:
    junk = tmp_path / "junk.distill"
    junk.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(200))
    with pytest.raises(ModelFileError, match=r"junk\.distill is not a distill_live model"):
        load_model(junk)
    text = tmp_path / "notes.distill"
    text.write_text("hello, I am not a model\n" * 10)
    with pytest.raises(ModelFileError, match=r"notes\.distill is not a distill_live model"):
        load_model(text)
    # a valid safetensors file without our format tag
    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, str(other), metadata={"format": "pt"})
    with pytest.raises(ModelFileError, match=r"other\.safetensors is not a distill_live model"):
        load_model(other)


def _rewrite_metadata(path: Path, **changes: str) -> None:
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header["__metadata__"].update(changes)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])


def test_unknown_version(saved: Path) -> None:
    _rewrite_metadata(saved, format_version=str(FORMAT_VERSION + 1))
    with pytest.raises(ModelFileError, match=r"m\.distill has model format version '2'.*upgrade"):
        load_model(saved)
    with pytest.raises(ModelFileError, match="version"):
        read_header(saved)
    _rewrite_metadata(saved, format_version="banana")
    with pytest.raises(ModelFileError, match=r"m\.distill has model format version 'banana'"):
        load_model(saved)


def test_pickle_is_refused_without_unpickling(tmp_path: Path) -> None:
    p = tmp_path / "evil.distill"
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    p.write_bytes(pickle.dumps({"model": Evil()}, protocol=4))
    with pytest.raises(ModelFileError, match=r"evil\.distill is a Python pickle"):
        load_model(p)
    assert not marker.exists()


def test_torch_save_is_refused(tmp_path: Path, model) -> None:
    p = tmp_path / "ckpt.pt"
    torch.save(model.state_dict(), p)
    with pytest.raises(ModelFileError, match=r"ckpt\.pt is a zip archive \(a torch\.save"):
        load_model(p)
    legacy = tmp_path / "legacy.pt"
    torch.save({"w": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(ModelFileError, match=r"legacy\.pt is a Python pickle"):
        load_model(legacy)


def _resign_header(p: Path, header: dict) -> None:
    """Store ``header`` in the model file ``p`` with a matching content hash, so only what
    was changed in it is left for the loader to catch."""
    data = p.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    st = json.loads(data[8 : 8 + n])
    from distill_live.model import files

    meta = st["__metadata__"]
    meta["header"] = json.dumps(header, sort_keys=True)
    entries = []
    for name, info in st.items():
        if name == "__metadata__":
            continue
        s, e = info["data_offsets"]
        entries.append((name, info["dtype"], info["shape"], data[8 + n + s : 8 + n + e]))
    meta["content_sha256"] = files._content_hash(meta["header"], entries)
    _rewrite_metadata(p, **meta)


def test_tensors_that_do_not_match_the_configs(model, tmp_path: Path) -> None:
    p = save_model(model, tmp_path / "m.distill")
    header = read_header(p)
    header["prior_config"]["d_model"] = 64  # a different shape than the stored tensors
    _resign_header(p, header)
    with pytest.raises(ModelFileError, match=r"m\.distill does not match its own configs"):
        load_model(p)


def test_text_booleans_in_configs(model, tmp_path: Path) -> None:
    """Files whose header says ``"depth": "true"`` (what ``train --prior depth=true`` once
    wrote) load with the bool; any other text for a bool setting is refused."""
    p = save_model(model, tmp_path / "m.distill")
    header = read_header(p)
    header["prior_config"]["depth"] = "false"  # as the weights were saved (no depth stage)
    header["codec_config"]["enc_wave"] = "true"
    _resign_header(p, header)
    m = load_model(p)
    assert m.prior.config.depth is False and m.codec.config.enc_wave is True
    header["prior_config"]["depth"] = "maybe"
    _resign_header(p, header)
    with pytest.raises(ModelFileError, match="invalid prior config.*depth must be true or false"):
        load_model(p)


def test_int8_file_is_small_and_close(model, tmp_path: Path) -> None:
    full = save_model(model, tmp_path / "f.distill")
    small = save_model(model, tmp_path / "q.distill", precision="int8")
    assert small.stat().st_size < 0.45 * full.stat().st_size
    header = read_header(small)
    assert header["tensor_dtype"] == "int8" and header["int8_tensors"]
    loaded = load_model(small)
    ref = model.state_dict()
    for name, t in loaded.state_dict().items():
        assert t.dtype == ref[name].dtype, name
        if name in header["int8_tensors"]:
            rows = ref[name].reshape(t.shape[0], -1)
            step = rows.abs().amax(1, keepdim=True) / 127
            assert ((t.reshape(t.shape[0], -1) - rows).abs() <= 0.51 * step + 1e-4).all(), name
    a, b = _outputs(model), _outputs(loaded)
    snr = 10 * torch.log10((a[0] ** 2).sum() / ((a[0] - b[0]) ** 2).sum())
    assert snr > 25.0
    with pytest.raises(ValueError, match="precision"):
        save_model(model, tmp_path / "x.distill", precision="int4")

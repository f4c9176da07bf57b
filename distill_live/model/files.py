"""The ``.distill`` model file: safetensors with a JSON header; no pickle anywhere.

Layout: a plain safetensors file (so any safetensors tool can read it). Its ``__metadata__``
holds four strings:

* ``format``: ``"distill_live.model"`` (the magic: anything else is not a model);
* ``format_version``: ``"1"``; a newer version is refused with "upgrade distill_live";
* ``header``: JSON with both configs, the sample rate, hop, parameter counts, the stored
  tensor dtype and the training summary (data duration, steps, time, metrics);
* ``content_sha256``: SHA-256 over the header JSON and every tensor (name, dtype, shape and
  raw bytes, in sorted name order), verified before any tensor is deserialised.

The header is read with two small reads (8-byte length, JSON), so it is checked before the
tensors are loaded. Tensors may be stored as float16 to keep a shipped file small; loading
converts them to float32. ``int8`` files store weight matrices as int8 with one scale per
output row (the header lists them); loading dequantizes them to float32.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import struct
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from .._version import __version__
from ..errors import ModelFileError
from .codec import CodecConfig
from .distill import DistillModel
from .pitched import build_codec
from .prior import Prior, PriorConfig

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "SUFFIX",
    "DEFAULT_MODEL_PATH",
    "resolve_model_path",
    "read_header",
    "save_model",
    "load_model",
    "info_dict",
]

FORMAT_NAME = "distill_live.model"
FORMAT_VERSION = 1
SUFFIX = ".distill"
#: The model shipped inside the package; ``load_model(None)`` and ``load_model("default")``.
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "default" / "default.distill"
_MAX_HEADER_BYTES = 16 * 1024 * 1024
_SCALE_SUFFIX = ".__int8_scale__"

_DTYPE_CODES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float64: "F64",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


# ------------------------------------------------------------------------------- paths
def resolve_model_path(path: str | os.PathLike[str] | None) -> Path:
    """``None`` or ``"default"`` → the shipped default model; anything else → that path.

    Raises :class:`ModelFileError` when the file does not exist.
    """
    if path is None or str(path) == "default":
        if not DEFAULT_MODEL_PATH.is_file():
            raise ModelFileError(
                f"the default model has not been trained and shipped yet ({DEFAULT_MODEL_PATH} "
                f"does not exist); train one with `distill-live train DATA_DIR --out "
                f"MODEL.distill` and pass its path"
            )
        return DEFAULT_MODEL_PATH
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelFileError(
            f"model file {str(p)!r} does not exist; give the path of a .distill file or 'default'"
        )
    if not p.is_file():
        raise ModelFileError(f"model file {str(p)!r} is not a file; give a .distill file")
    return p


# ------------------------------------------------------------------------------- hashing
def _tensor_bytes(t: torch.Tensor) -> bytes:
    return t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def _content_hash(
    header_json: str, entries: Sequence[tuple[str, str, list[int], bytes | memoryview]]
) -> str:
    """SHA-256 of the header JSON and every (name, dtype code, shape, raw bytes), sorted."""
    h = hashlib.sha256()
    h.update(header_json.encode("utf-8"))
    for name, dtype, shape, data in sorted(entries, key=lambda e: e[0]):
        h.update(b"\0" + name.encode("utf-8") + b"\0" + dtype.encode() + json.dumps(shape).encode())
        h.update(data)
    return h.hexdigest()


# ------------------------------------------------------------------------------- saving
def _jsonable(value: Any, where: str) -> Any:
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where} must be JSON-serialisable (finite numbers): {exc}") from None


def save_model(
    model: DistillModel,
    path: str | os.PathLike[str],
    training_summary: dict[str, Any] | None = None,
    *,
    half: bool = False,
    precision: str | None = None,
) -> Path:
    """Write ``model`` to ``path`` (atomically: a temporary file, then a rename).

    ``training_summary`` is stored in the header as given (JSON: e.g. ``data_seconds``,
    ``steps``, ``seconds``, ``metrics``). ``precision`` picks how floating tensors are stored:
    ``"float32"`` (exact, the default), ``"float16"`` (``half=True`` is the same), or
    ``"int8"``: weight matrices and convolution kernels as int8 with one float16 scale per
    output row (symmetric, absmax), everything else float16; about a quarter of the float32
    size. Loading always gives float32. Returns the path written.
    """
    from safetensors.torch import save as st_save

    precision = precision or ("float16" if half else "float32")
    if precision not in ("float32", "float16", "int8"):
        raise ValueError(f"precision must be float32, float16 or int8, got {precision!r}")
    path = Path(path)
    weight_names = {n for n, p in model.named_parameters() if p.dim() >= 2 and p.numel() >= 1024}
    tensors: dict[str, torch.Tensor] = {}
    int8_names: list[str] = []
    for name, t in model.state_dict().items():
        t = t.detach().cpu()
        if precision == "int8" and name in weight_names:
            rows = t.float().reshape(t.shape[0], -1)
            scale = (rows.abs().amax(dim=1) / 127.0).clamp(min=1e-12).half()
            q = torch.round(rows / scale.float()[:, None]).clamp(-127, 127).to(torch.int8)
            tensors[name] = q.reshape(t.shape).contiguous()
            tensors[name + _SCALE_SUFFIX] = scale.contiguous()
            int8_names.append(name)
            continue
        if precision != "float32" and t.is_floating_point():
            t = t.to(torch.float16)
        tensors[name] = t.contiguous().clone()  # clone: safetensors refuses shared storage
    counts = model.num_parameters()
    header: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "written_by": f"distill_live {__version__}",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sample_rate": model.sample_rate,
        "hop": model.hop,
        "frame_rate": model.frame_rate,
        "n_codebooks": model.n_codebooks,
        "codebook_size": model.codebook_size,
        "decoder_context": model.decoder_context,
        "parameters": counts,
        "tensor_dtype": precision,
        "int8_tensors": sorted(int8_names),
        "codec_config": _jsonable(dataclasses.asdict(model.codec.config), "codec config"),
        "prior_config": _jsonable(dataclasses.asdict(model.prior.config), "prior config"),
        "training": _jsonable(training_summary or {}, "training_summary"),
    }
    header_json = json.dumps(header, sort_keys=True)
    entries = [
        (n, _DTYPE_CODES[t.dtype], list(t.shape), _tensor_bytes(t)) for n, t in tensors.items()
    ]
    metadata = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "header": header_json,
        "content_sha256": _content_hash(header_json, entries),
    }
    data = st_save(tensors, metadata=metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ------------------------------------------------------------------------------- reading
def _sniff_foreign(path: Path, head: bytes) -> None:
    """Refuse, by name, the usual things that are not model files."""
    if head[:4] == b"PK\x03\x04":
        raise ModelFileError(
            f"{path} is a zip archive (a torch.save checkpoint?), not a distill_live model; "
            f"distill_live never unpickles files: give a .distill file written by "
            f"`distill-live train`"
        )
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        raise ModelFileError(
            f"{path} is a Python pickle, not a distill_live model; pickles can run code and are "
            f"never loaded: give a .distill file written by `distill-live train`"
        )


def _read_safetensors_header(path: Path, f: Any, size: int) -> tuple[int, dict[str, Any]]:
    head = f.read(8)
    _sniff_foreign(path, head)
    if len(head) < 8:
        raise ModelFileError(
            f"{path} is not a distill_live model (only {size} bytes; it may be truncated)"
        )
    (n,) = struct.unpack("<Q", head)
    first = f.read(1)
    if n < 2 or n > _MAX_HEADER_BYTES or first != b"{":
        raise ModelFileError(
            f"{path} is not a distill_live model (no safetensors header); give a .distill file "
            f"written by `distill-live train`"
        )
    if 8 + n > size:
        raise ModelFileError(
            f"{path} is truncated: its header alone needs {8 + n} bytes but the file has {size} "
            f"(an interrupted copy or download?); copy it again or re-train"
        )
    raw = first + f.read(n - 1)
    try:
        st_header = json.loads(raw.decode("utf-8"))
        if not isinstance(st_header, dict):
            raise ValueError("not a JSON object")
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelFileError(
            f"{path} is corrupt or not a distill_live model: its header is not valid JSON ({exc})"
        ) from None
    return int(n), st_header


def _check_metadata(path: Path, st_header: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    meta = st_header.get("__metadata__")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f"{path} is not a distill_live model (a safetensors file without the "
            f"{FORMAT_NAME!r} format tag); give a .distill file written by `distill-live train`"
        )
    version_text = meta.get("format_version")
    try:
        version = int(str(version_text))
    except ValueError:
        version = -1
    if version != FORMAT_VERSION:
        newer = version > FORMAT_VERSION
        raise ModelFileError(
            f"{path} has model format version {version_text!r}, which this distill_live "
            f"({__version__}) cannot read (it reads version {FORMAT_VERSION})"
            + ("; upgrade distill_live to load it" if newer else "; the file may be corrupt")
        )
    try:
        header = json.loads(meta["header"])
        if not isinstance(header, dict):
            raise ValueError("not a JSON object")
        str(meta["content_sha256"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} is corrupt: its model header is unreadable ({exc})") from None
    return meta, header


def read_header(path: str | os.PathLike[str] | None) -> dict[str, Any]:
    """The JSON header of a model file, checked (format, version) without reading tensors.

    ``path`` may be ``None`` or ``"default"`` for the shipped model.
    """
    p = resolve_model_path(path)
    with open(p, "rb") as f:
        _, st_header = _read_safetensors_header(p, f, p.stat().st_size)
    return _check_metadata(p, st_header)[1]


def _verify(path: Path) -> tuple[bytes, dict[str, Any], str]:
    """Read and check the whole file: returns (file bytes, header, file sha256)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        n, st_header = _read_safetensors_header(path, f, size)
        meta, header = _check_metadata(path, st_header)
        f.seek(0)
        blob = f.read()
    data_start = 8 + n
    entries: list[tuple[str, str, list[int], memoryview]] = []
    data_len = 0
    view = memoryview(blob)
    try:
        for name, info in st_header.items():
            if name == "__metadata__":
                continue
            start, end = (int(x) for x in info["data_offsets"])
            data_len = max(data_len, end)
            entries.append(
                (
                    name,
                    str(info["dtype"]),
                    [int(s) for s in info["shape"]],
                    view[data_start + start : data_start + end],
                )
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} is corrupt: bad tensor index ({exc})") from None
    if size < data_start + data_len:
        raise ModelFileError(
            f"{path} is truncated: {size} bytes, expected {data_start + data_len} (an "
            f"interrupted copy or download?); copy it again or re-train"
        )
    if size > data_start + data_len:
        raise ModelFileError(
            f"{path} is corrupt: {size - data_start - data_len} unexpected bytes after the tensors"
        )
    stored = str(meta["content_sha256"])
    actual = _content_hash(str(meta["header"]), entries)
    if actual != stored:
        raise ModelFileError(
            f"{path} is corrupt: content hash mismatch (stored {stored[:12]}…, computed "
            f"{actual[:12]}…); the file was damaged after it was written: copy it again or "
            f"re-train"
        )
    return blob, header, hashlib.sha256(blob).hexdigest()


def _config(cls: type, data: Any, path: Path, what: str) -> Any:
    if not isinstance(data, dict):
        raise ModelFileError(f"{path} is corrupt: {what} config missing from its header")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ModelFileError(
            f"{path} has {what} config keys {unknown} this distill_live ({__version__}) does not "
            f"know; it was probably written by a newer version: upgrade distill_live"
        )
    values = {}
    for field in dataclasses.fields(cls):
        if field.name in data:
            v = data[field.name]
            if isinstance(field.default, bool) and v in ("true", "false"):
                v = v == "true"  # `train --prior depth=true` once wrote text, not a bool
            values[field.name] = tuple(v) if isinstance(v, list) else v
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} has an invalid {what} config: {exc}") from None


def load_model(path: str | os.PathLike[str] | None = None) -> DistillModel:
    """Load a model file (``None`` / ``"default"``: the shipped default model), in eval mode.

    Everything is checked before tensors are built: format tag, version, size, content hash;
    then the tensors must match the configs exactly. Raises :class:`ModelFileError` naming
    the file and what is wrong.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    p = resolve_model_path(path)
    blob, header, file_sha = _verify(p)
    codec_cfg = _config(CodecConfig, header.get("codec_config"), p, "codec")
    prior_cfg = _config(PriorConfig, header.get("prior_config"), p, "prior")
    try:
        tensors = st_load(blob)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{p} is corrupt: its tensors cannot be read ({exc})") from None
    try:
        model = DistillModel(
            build_codec(codec_cfg), Prior(prior_cfg), header, p.resolve(), file_sha
        )
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{p} has configs that do not fit together: {exc}") from None
    own = model.state_dict()
    converted = {}
    int8_names = header.get("int8_tensors") or []
    for name in int8_names:
        q, scale = tensors.pop(name, None), tensors.pop(name + _SCALE_SUFFIX, None)
        if q is None or scale is None or q.dim() < 1 or scale.shape != q.shape[:1]:
            raise ModelFileError(f"{p} is corrupt: int8 tensor {name!r} or its scale is missing")
        deq = q.float().reshape(q.shape[0], -1) * scale.float()[:, None]
        converted[name] = deq.reshape(q.shape)
    for name, t in tensors.items():
        ref = own.get(name)
        converted[name] = t.to(ref.dtype) if ref is not None and t.is_floating_point() else t
    try:
        model.load_state_dict(converted, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0:3]
        raise ModelFileError(f"{p} does not match its own configs ({' '.join(first)})") from None
    return model.eval()


# ------------------------------------------------------------------------------- info
def info_dict(path: str | os.PathLike[str] | None) -> dict[str, Any]:
    """What ``distill-live info`` shows: the header plus file facts (hash verified)."""
    p = resolve_model_path(path)
    _, header, file_sha = _verify(p)
    return {
        "path": str(p),
        "file_bytes": p.stat().st_size,
        "file_sha256": file_sha,
        "content_hash_ok": True,
        **header,
    }

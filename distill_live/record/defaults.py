"""What a recording started without options uses: :class:`RecordDefaults`.

``play`` fills one from its ``--record*`` options and hands it to the engine, so that OSC
``/distill/record/start`` without a path, the MIDI record button and the terminal UI key
record like the command line asked. Pure data: it may import only the standard library.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RecordDefaults"]


@dataclass(frozen=True)
class RecordDefaults:
    """What ``record_start()`` uses for what it is not given (``play`` fills it from
    ``--record``, ``--subtype``, ``--record-container`` and ``--record-split-mb``), so that
    OSC ``/distill/record/start`` without a path, the MIDI record button and the terminal UI
    key record like the command line asked.

    ``folder``: where starts without a path make a new ``session_..._seed{seed}.wav``.
    ``split_bytes``: part size limit (None: just under 4 GiB for wav, no split for rf64/w64).
    """

    folder: str = "recordings/"
    subtype: str = "PCM_24"
    container: str = "wav"
    split_bytes: int | None = None

    @classmethod
    def for_target(
        cls,
        target: str | os.PathLike[str] | None,
        subtype: str = "PCM_24",
        container: str = "wav",
        split_bytes: int | None = None,
    ) -> RecordDefaults:
        """Defaults for ``--record target``: a folder is used as is; a file name gives its
        folder (later starts there get automatic names); None gives ./recordings/."""
        if target is None:
            folder = cls.folder
        else:
            text = os.fspath(target)
            p = Path(text).expanduser()
            if p.is_dir() or text.endswith(("/", os.sep)):
                folder = os.path.join(str(p), "")
            else:
                folder = os.path.join(str(p.parent), "")
        return cls(folder, subtype, container, split_bytes)

"""The one JSON writer of files people and tools read: UTF-8 as typed, indented, a final newline."""

from __future__ import annotations

import json
from typing import Any


def json_bytes(data: Any, *, sort_keys: bool = False) -> bytes:
    """Serialize ``data`` as a JSON output file: UTF-8 (no \\u escapes), indent 2, newline."""
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=sort_keys) + "\n").encode(
        "utf-8"
    )

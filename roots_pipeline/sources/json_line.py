"""Decoding one JSON line the way every reader of JSON lines must: strictly UTF-8, end to end.

`json.loads` accepts `"\\ud800"`, an escaped half of a surrogate pair, and returns a Python string
that no UTF-8 writer can encode; such a record would pass the read and crash a later stage (the
byte count, the Arrow writer, fastText). It is refused here, as invalid UTF-8, with the line's
other faults.
"""

from __future__ import annotations

import json
import re
from typing import Any

# An escaped surrogate (high or low); a well-formed pair decodes to one character and passes.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def decode_json_line(line: bytes, first: bool = False) -> Any:
    """Return the parsed JSON value of one line (a UTF-8 BOM is allowed on the first line).

    Raises UnicodeDecodeError for bytes that are not UTF-8 and for a lone surrogate escape, and
    json.JSONDecodeError / RecursionError as `json.loads` does.
    """
    value = json.loads(line.decode("utf-8-sig" if first else "utf-8"))
    escape = _SURROGATE_ESCAPE.search(line)
    if escape is not None:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise UnicodeDecodeError("utf-8", line, escape.start(), escape.end(),
                                     "escaped lone surrogate") from None
    return value

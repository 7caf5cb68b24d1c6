"""Short random ids for model objects (clips, tracks, markers, chain steps)."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return uuid.uuid4().hex[:12]

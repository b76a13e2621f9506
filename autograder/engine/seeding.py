"""Seeds for check inputs.

Public checks use fixed inputs (the course's public seed), so a student sees the same numbers every run. Hidden
checks draw from a seed keyed by the course secret and the submission's content: regrading the same file gives
identical inputs (and results), two different submissions get different inputs, and nobody without the secret can
predict them. Graded with the secret and the reference solutions (by the course, not by a student), public checks
draw that way too: answers hardcoded for the public inputs earn nothing where it counts.
"""

from __future__ import annotations

import hashlib

__all__ = ["check_seed", "digest"]


def digest(source: bytes) -> str:
    return hashlib.sha256(source).hexdigest()


def check_seed(*, topic: str, check: str, hidden: bool, public_seed: int, secret: bytes | None, submission: str, fresh_public: bool = False) -> int:
    """``fresh_public``: draw the public checks' inputs like the hidden ones' (needs the secret to be unpredictable)."""
    if hidden or fresh_public:
        key = hashlib.sha256(b"autograder-hidden:" + (secret or b"")).digest()
        message = f"{submission}/{topic}/{check}"
    else:
        key = b"autograder-public"
        message = f"{public_seed}/{topic}/{check}"
    return int.from_bytes(hashlib.blake2b(message.encode(), key=key, digest_size=8).digest(), "little")

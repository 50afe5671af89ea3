"""SHA-1, SHA-256 and BLAKE2b without OpenSSL.

`import hashlib` (or hmac) loads OpenSSL's libcrypto: ~3.7 MB of the panel's resident memory, for a
handful of short digests (cache keys, a rules-file version, change signatures). CPython builds its own
implementations of these algorithms as the modules hashlib itself falls back to (`_sha1`, `_sha2` -
`_sha256` before Python 3.12 - and `_blake2`); their digests are the same bytes. Where a build lacks
them, hashlib is used.
"""

from __future__ import annotations

from typing import Any


def _builtin(*candidates: tuple[str, str]) -> Any:
    import importlib

    for module, name in candidates:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    return None


_sha1 = _builtin(("_sha1", "sha1"))
_sha256 = _builtin(("_sha2", "sha256"), ("_sha256", "sha256"))
_blake2b = _builtin(("_blake2", "blake2b"))


def sha1(data: bytes = b"") -> Any:
    """A hashlib-style SHA-1 object (update(), hexdigest())."""
    if _sha1 is None:
        import hashlib

        return hashlib.sha1(data)
    return _sha1(data)


def sha256(data: bytes = b"") -> Any:
    if _sha256 is None:
        import hashlib

        return hashlib.sha256(data)
    return _sha256(data)


def blake2b(data: bytes = b"", digest_size: int = 64) -> Any:
    if _blake2b is None:
        import hashlib

        return hashlib.blake2b(data, digest_size=digest_size)
    return _blake2b(data, digest_size=digest_size)

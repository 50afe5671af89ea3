"""assistant.core.digest: the same digests as hashlib, without loading OpenSSL (issue 17: ~3.7 MB of the
panel's memory). Cache keys, the rules-file version and stored change signatures depend on equality."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from assistant.core import digest

SAMPLES = [b"", b"a", "催单 kuaidi 快递\x00".encode(), bytes(range(256)) * 300]


@pytest.mark.parametrize("data", SAMPLES)
def test_digests_equal_hashlib(data):
    assert digest.sha1(data).hexdigest() == hashlib.sha1(data).hexdigest()
    assert digest.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    for size in (8, 64):
        assert digest.blake2b(data, digest_size=size).digest() == hashlib.blake2b(data, digest_size=size).digest()
    h = digest.sha1()
    h.update(data)
    h.update(b"more")
    assert h.hexdigest() == hashlib.sha1(data + b"more").hexdigest()


def test_openssl_is_not_loaded():
    code = ("import sys; from assistant.core import digest, search, compliance, lexicon;"
            "from assistant.services import single_instance, pasteflow;"
            "digest.sha1(b'x'); digest.sha256(b'x'); digest.blake2b(b'x', digest_size=8);"
            "print(sorted(m for m in ('_hashlib', 'hashlib', 'hmac', '_ssl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

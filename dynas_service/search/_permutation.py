"""A seeded pseudo-random permutation of ``range(n)`` evaluated lazily, in O(1) memory.

A 4-round Feistel network over the smallest even-bit power of two >= n, with cycle
walking back into ``range(n)`` (expected fewer than 4 steps since the domain is < 4n).
Works for any ``n``, however large (Python integers), so the anytime grid can shuffle a
level of billions of points without materializing it.
"""

from __future__ import annotations

from hashlib import blake2b

import numpy as np

_ROUNDS = 4


class LazyPermutation:
    """``perm[i]`` for ``i`` in ``range(n)`` is a bijection onto ``range(n)`` fixed by ``rng``."""

    def __init__(self, n: int, rng: np.random.Generator) -> None:
        if n < 1:
            raise ValueError(f"a permutation needs n >= 1, got {n=}")
        self.n = n
        bits = max(2, (n - 1).bit_length())
        bits += bits % 2
        self._half = bits // 2
        self._mask = (1 << self._half) - 1
        self._keys = tuple(rng.bytes(16) for _ in range(_ROUNDS))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        if not 0 <= i < self.n:
            raise IndexError(f"index {i} outside range({self.n})")
        x = self._encrypt(i)
        while x >= self.n:  # cycle walking stays inside range(n)
            x = self._encrypt(x)
        return x

    def _encrypt(self, x: int) -> int:
        left, right = x >> self._half, x & self._mask
        for key in self._keys:
            left, right = right, left ^ self._round(key, right)
        return (left << self._half) | right

    def _round(self, key: bytes, x: int) -> int:
        data = x.to_bytes((self._half + 7) // 8 or 1, "little")
        n_bytes, out, counter = (self._half + 7) // 8, b"", 0
        while len(out) < n_bytes:
            out += blake2b(data, key=key, salt=counter.to_bytes(16, "little")).digest()
            counter += 1
        return int.from_bytes(out[:n_bytes], "little") & self._mask

"""Identity codes, vectorised: citizen IDs (GB 11643), credit codes (GB 32100), plates (GA 36).

Every function takes and returns whole columns: the generator makes a million codes in one
call. Scalar helpers (``ric_check_char``, ``uscc_check_char``) state the same rules for one
value, so tests compare both against python-stdnum.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]

RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
RIC_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)

# GB 32100: 31 symbols, no I O Z S V.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array(
    [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64
)
_USCC_SYMBOLS = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
# GB 11714 (organisation code, chars 9–17 of a USCC): weights over 8 chars, check char 9.
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)

# GA 36: plate serials use digits and capital letters except I and O.
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_PLATE_LETTERS = np.frombuffer(PLATE_LETTERS.encode(), dtype=np.uint8)
_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)


def ascii_strings(matrix: U8) -> pa.StringArray:
    """Return one string per row of an ASCII byte matrix (all rows of the same width)."""
    n, width = matrix.shape
    offsets = (np.arange(n + 1, dtype=np.int32) * width).tobytes()
    data = np.ascontiguousarray(matrix).tobytes()
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def ric_check_chars(digits17: npt.NDArray[np.integer]) -> U8:
    """Return the GB 11643 check char (ASCII) of each row of 17 digit values."""
    total = digits17.astype(np.int64) @ RIC_WEIGHTS
    return np.asarray(RIC_CHECK[total % 11], dtype=np.uint8)


def ric_check_char(first17: str) -> str:
    """Return the GB 11643 check char of a 17-digit prefix."""
    digits = np.frombuffer(first17.encode(), dtype=np.uint8) - 48
    return chr(int(ric_check_chars(digits[None, :])[0]))


def ric_matrix(region: I64, birth_yyyymmdd: I64, sequence: I64) -> U8:
    """Return citizen IDs as an (n, 18) ASCII matrix from region code, birth date, sequence."""
    n = len(region)
    out = np.empty((n, 18), dtype=np.uint8)
    for k, (values, width) in enumerate(((region, 6), (birth_yyyymmdd, 8), (sequence, 3))):
        start = (0, 6, 14)[k]
        v = values.astype(np.int64)
        for j in range(width - 1, -1, -1):
            out[:, start + j] = v % 10
            v = v // 10
    out[:, 17] = ric_check_chars(out[:, :17])
    out[:, :17] += 48
    return out


def uscc_check_chars(values17: npt.NDArray[np.integer]) -> U8:
    """Return the GB 32100 check char (ASCII) of each row of 17 symbol values (0–30)."""
    total = values17.astype(np.int64) @ USCC_WEIGHTS
    return np.asarray(_USCC_SYMBOLS[(31 - total % 31) % 31], dtype=np.uint8)


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100 check char of a 17-char prefix."""
    values = np.array([USCC_ALPHABET.index(c) for c in first17], dtype=np.int64)
    return chr(int(uscc_check_chars(values[None, :])[0]))


def _org_values(symbols: U8) -> npt.NDArray[np.int64]:
    """Return GB 11714 values of ASCII digits and capitals (0–9, A=10 … Z=35)."""
    s = symbols.astype(np.int64)
    return np.where(s <= 57, s - 48, s - 55)


def uscc_matrix(
    rng: np.random.Generator, region: I64, authority: bytes = b"9", category: bytes = b"1"
) -> U8:
    """Return new-style credit codes (18-char ASCII matrix) registered in ``region``.

    Chars 9–17 are an organisation code per GB 11714: ``MA`` + 6 random symbols + its own
    check char (values 10 and 11 are written X and 0), as issued since 2015.
    """
    n = len(region)
    out = np.empty((n, 18), dtype=np.uint8)
    out[:, 0] = authority[0]
    out[:, 1] = category[0]
    v = region.astype(np.int64)
    for j in range(5, -1, -1):
        out[:, 2 + j] = 48 + v % 10
        v = v // 10
    out[:, 8] = ord("M")
    out[:, 9] = ord("A")
    out[:, 10:16] = _USCC_SYMBOLS[rng.integers(0, 31, size=(n, 6))]
    c9 = 11 - (_org_values(out[:, 8:16]) @ ORG_WEIGHTS) % 11
    out[:, 16] = np.where(c9 == 10, ord("X"), np.where(c9 == 11, 48, 48 + c9 % 10))
    lookup = np.full(128, -1, dtype=np.int64)
    lookup[_USCC_SYMBOLS] = np.arange(31)
    out[:, 17] = uscc_check_chars(lookup[out[:, :17]])
    return out


def plate_matrix(
    rng: np.random.Generator,
    n: int,
    new_energy: npt.NDArray[np.bool_],
    large: npt.NDArray[np.bool_],
) -> tuple[U8, npt.NDArray[np.int64]]:
    """Return GA 36 plate serials (after the province char) as ASCII, and their lengths.

    Each row is the authority letter's serial part: 5 chars for ordinary plates, 6 for
    new-energy ones (small: D or F first; large: D or F last). Rows are padded to 6.
    """
    out = np.zeros((n, 6), dtype=np.uint8)
    # Ordinary: up to two letters among five chars, the rest digits.
    letters = _PLATE_LETTERS[rng.integers(0, len(_PLATE_LETTERS), size=(n, 5))]
    digits = _DIGITS[rng.integers(0, 10, size=(n, 5))]
    use_letter = rng.random((n, 5)) < np.array([0.45, 0.2, 0.1, 0.05, 0.05])
    ordinary = np.where(use_letter, letters, digits)
    df = np.where(rng.random(n) < 0.7, ord("D"), ord("F")).astype(np.uint8)
    small_nev = new_energy & ~large
    large_nev = new_energy & large
    plain = ~new_energy
    out[plain, :5] = ordinary[plain]
    # Small NEV: D/F, a letter or digit, then four digits.
    out[small_nev, 0] = df[small_nev]
    out[small_nev, 1] = np.where(
        rng.random(int(small_nev.sum())) < 0.5, letters[small_nev, 0], digits[small_nev, 0]
    )
    out[small_nev, 2:6] = _DIGITS[rng.integers(0, 10, size=(int(small_nev.sum()), 4))]
    # Large NEV: five digits, then D/F.
    out[large_nev, :5] = _DIGITS[rng.integers(0, 10, size=(int(large_nev.sum()), 5))]
    out[large_nev, 5] = df[large_nev]
    lengths = np.where(new_energy, 6, 5).astype(np.int64)
    return out, lengths

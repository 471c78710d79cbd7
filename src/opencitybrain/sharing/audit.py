"""Tamper-evident audit: a hash chain of records with Ed25519-signed checkpoints.

Every request, decision, grant, revocation and read (refused reads included) becomes a
record: who (the Context), what (kind, resource, fields, row count, hash of the result),
why (purpose) and when. Each record's hash covers its own columns and the previous
record's hash, so editing, inserting or deleting a record breaks the chain at that record.
Every ``CHECKPOINT_EVERY`` records (and on demand) the platform signs the head of the
chain with an Ed25519 key derived from the platform secret; a checkpoint pins the chain
up to it, so even dropping the newest records (truncation) shows: a signed checkpoint
names a record that is no longer there.

Verification streams the records in order and names the first bad one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from opencitybrain.kernel.events import Context

GENESIS = "0" * 64
CHECKPOINT_EVERY = 1000
_SEP = "\x1f"
_KEY_INFO = b"opencitybrain.sharing.audit-checkpoint.v1"


class AuditKind(StrEnum):
    """What an audit record is about."""

    REQUESTED = "requested"
    GRANTED = "granted"
    REFUSED = "refused"
    ESCALATED = "escalated"
    REVOKED = "revoked"
    READ = "read"
    READ_REFUSED = "read_refused"
    REQUEST_REFUSED = "request_refused"  # a request refused as bad input, before any decision
    RELEASED = "released"  # an open data release (k-anonymity or DP) published
    RELEASE_REFUSED = "release_refused"  # a release refused as bad input


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What a caller appends; the log adds the sequence number and the hashes."""

    kind: AuditKind
    ctx: Context
    at: datetime
    resource_id: str = ""
    fields: tuple[str, ...] = ()
    row_count: int = 0
    result_hash: str = ""
    subject: str = ""  # the request or grant concerned
    detail: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A stored record of the chain, in the form its hash covers."""

    seq: int
    at: str  # ISO 8601 text: hashed as stored, so no engine's datetime round trip moves it
    kind: str
    actor: str
    department: str
    purpose: str
    resource_id: str
    fields: str  # comma-joined
    row_count: int
    result_hash: str
    subject: str
    detail: str  # canonical JSON: the Context and anything else
    prev_hash: str
    hash: str

    def payload(self) -> str:
        """Return the text the record's hash covers (all columns but the hash itself)."""
        return _SEP.join(
            (
                str(self.seq),
                self.at,
                self.kind,
                self.actor,
                self.department,
                self.purpose,
                self.resource_id,
                self.fields,
                str(self.row_count),
                self.result_hash,
                self.subject,
                self.detail,
                self.prev_hash,
            )
        )

    def expected_hash(self) -> str:
        """Return the hash the record should carry."""
        return hashlib.sha256(self.payload().encode()).hexdigest()


_CANONICAL = msgspec.json.Encoder(order="sorted")


def canonical(doc: object) -> str:
    """Return the canonical JSON of a document (sorted keys, no spaces, UTF-8 kept)."""
    return _CANONICAL.encode(doc).decode()


def seal(entry: AuditEntry, seq: int, prev_hash: str) -> AuditRecord:
    """Return the stored record of an entry at position ``seq`` after ``prev_hash``."""
    ctx = entry.ctx
    detail = canonical({"context": ctx.to_dict(), **entry.detail})
    cols = (
        seq, entry.at.isoformat(), entry.kind.value, ctx.actor, ctx.department or "",
        ctx.purpose or "", entry.resource_id, ",".join(entry.fields), entry.row_count,
        entry.result_hash, entry.subject, detail, prev_hash,
    )  # fmt: skip
    # The same text as AuditRecord.payload(), built once instead of through a draft record.
    digest = hashlib.sha256(_SEP.join(map(str, cols)).encode()).hexdigest()
    return AuditRecord(*cols, digest)


def result_hash(rows: object) -> str:
    """Return the SHA-256 of a result's canonical JSON (what the reader received)."""
    return hashlib.sha256(canonical(rows).encode()).hexdigest()


# --- checkpoints ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement: the chain up to record ``seq`` ends in ``hash``."""

    seq: int
    hash: str
    signed_at: str
    signature: str  # hex
    public_key: str  # hex, raw Ed25519

    def message(self) -> bytes:
        """Return the bytes the signature covers."""
        return (
            f"opencitybrain-audit{_SEP}{self.seq}{_SEP}{self.hash}{_SEP}{self.signed_at}".encode()
        )


class CheckpointSigner:
    """Sign and check checkpoints with an Ed25519 key derived from the platform secret."""

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else secret
        seed = hmac.new(raw, _KEY_INFO, hashlib.sha256).digest()
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    def sign(self, seq: int, chain_hash: str, at: datetime) -> Checkpoint:
        """Return a signed checkpoint of the chain head."""
        draft = Checkpoint(seq, chain_hash, at.isoformat(), "", self.public_key)
        signature = self._key.sign(draft.message()).hex()
        return Checkpoint(seq, chain_hash, draft.signed_at, signature, self.public_key)

    def valid(self, cp: Checkpoint) -> bool:
        """Tell whether a checkpoint carries a good signature by this platform's key."""
        if cp.public_key != self.public_key:
            return False
        return signature_ok(cp)


def signature_ok(cp: Checkpoint) -> bool:
    """Tell whether a checkpoint's signature matches its own public key."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(cp.public_key))
        key.verify(bytes.fromhex(cp.signature), cp.message())
    except (InvalidSignature, ValueError):
        return False
    return True


# --- verification ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of verifying the chain: ok, or the first bad record and why."""

    ok: bool
    records: int
    checkpoints: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str = ""
    reason_zh: str = ""


def verify_chain(
    records: Iterable[AuditRecord], checkpoints: list[Checkpoint], signer: CheckpointSigner
) -> Verdict:
    """Walk the records in order; check sequence, links, hashes and signed checkpoints."""
    return verify_rows((astuple(r) for r in records), checkpoints, signer)


def astuple(r: AuditRecord) -> tuple[Any, ...]:
    """Return a record as a row of its columns in stored order (the hash last)."""
    return tuple(getattr(r, name) for name in AuditRecord.__slots__)


def verify_rows(
    rows: Iterable[Sequence[Any]], checkpoints: list[Checkpoint], signer: CheckpointSigner
) -> Verdict:
    """Verify rows of the chain's columns in stored order (seq first, prev hash, hash last).

    The chain is read straight from the database as rows: at a million records the
    per-record work is one join and one SHA-256, nothing else.
    """
    for cp in checkpoints:
        if not signer.valid(cp):
            return _bad(0, 0, cp.seq, GENESIS, cp.seq, "checkpoint signature invalid",
                        "检查点签名无效")  # fmt: skip
    pinned = {cp.seq: cp.hash for cp in checkpoints}
    return truncated(walk(rows, pinned, GENESIS, 1), pinned)


def walk(rows: Iterable[Sequence[Any]], pinned: dict[int, str], prev: str, first: int) -> Verdict:
    """Verify a run of the chain that starts at ``first`` after a record hashed ``prev``.

    ``rows`` hold the chain's columns in stored order. ``pinned`` maps sequence numbers to
    the hashes signed checkpoints hold (their signatures checked by the caller). The whole
    chain is one run from the genesis; a parallel verification walks several runs, each
    after the record that ends the run before it.
    """
    join = _SEP.join
    return walk_joined(((r[0], join(map(str, r[:13])), r[12], r[13]) for r in rows),
                       pinned, prev, first)  # fmt: skip


def walk_joined(
    rows: Iterable[Sequence[Any]], pinned: dict[int, str], prev: str, first: int
) -> Verdict:
    """Verify a run given as (seq, the hashed text of the record, link, hash) rows.

    The hashed text is the record's first 13 columns as text joined by U+001F (a database
    can build it in its query, which is cheaper than building 13 Python objects a record).
    """
    expected_seq, count, seen_cp = first, 0, 0
    sha = hashlib.sha256
    for seq, text, link, digest in rows:
        if seq != expected_seq:
            why = "record missing (deleted)" if seq > expected_seq else "sequence repeats"
            return _bad(count, seen_cp, expected_seq - 1, prev, expected_seq, why,
                        "记录序号不连续（有记录被删除或插入）")  # fmt: skip
        if link != prev:
            return _bad(count, seen_cp, seq - 1, prev, seq, "link to previous record broken",
                        "与上一条记录的链接被破坏")  # fmt: skip
        if digest != sha(text.encode()).hexdigest():
            return _bad(count, seen_cp, seq - 1, prev, seq, "record content changed",
                        "记录内容被修改")  # fmt: skip
        if seq in pinned:
            if pinned[seq] != digest:
                return _bad(count, seen_cp, seq - 1, prev, seq,
                            "record differs from its signed checkpoint",
                            "记录与签名检查点不符")  # fmt: skip
            seen_cp += 1
        prev, expected_seq, count = digest, seq + 1, count + 1
    return Verdict(True, count, seen_cp, expected_seq - 1, prev)


def truncated(v: Verdict, pinned: dict[int, str]) -> Verdict:
    """Return the verdict, or a bad one if signed records lie beyond the verified head."""
    if v.ok and any(seq > v.head_seq for seq in pinned):
        return _bad(v.records, v.checkpoints, v.head_seq, v.head_hash, v.head_seq + 1,
                    "records signed by a checkpoint are missing (truncated)",
                    "签名检查点覆盖的记录缺失（被截断）")  # fmt: skip
    return v


def _bad(
    count: int, cps: int, head: int, head_hash: str, seq: int, why: str, why_zh: str
) -> Verdict:
    return Verdict(False, count, cps, head, head_hash, seq, why, why_zh)

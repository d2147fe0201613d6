"""Rekor inclusion promises (signed entry timestamps), checked offline.

A Rekor v1 entry in a bundle carries a signed entry timestamp (SET): the
log's ECDSA signature over the canonical JSON of the entry's body,
integrated time, log index and log id. With the log's public key from a
Sigstore `trusted_root.json`, it proves the log accepted this entry at that
time. This is checked for key-based bundles (sigstore-python verifies
keyless bundles itself but does not take key-based ones) and for legacy
cosign bundles. The Merkle inclusion proof and checkpoint are not checked
here.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bot.errors import InputError


@dataclass(frozen=True)
class LogEntry:
    body: str  # base64 canonicalized body, as logged
    integrated_time: int
    log_index: int
    log_id: bytes
    set: bytes | None


@dataclass(frozen=True)
class LogKey:
    log_id: bytes
    key: ec.EllipticCurvePublicKey
    url: str
    start: dt.datetime | None
    end: dt.datetime | None


def entries_from_bundle(doc: dict[str, Any]) -> list[LogEntry]:
    """The Rekor entries of a Sigstore bundle or of a legacy cosign bundle."""
    try:
        if "rekorBundle" in doc:
            rb = doc["rekorBundle"]
            p = rb["Payload"]
            return [
                LogEntry(
                    body=p["body"],
                    integrated_time=int(p["integratedTime"]),
                    log_index=int(p["logIndex"]),
                    log_id=bytes.fromhex(p["logID"]),
                    set=base64.b64decode(rb["SignedEntryTimestamp"]),
                )
            ]
        out = []
        for e in (doc.get("verificationMaterial") or {}).get("tlogEntries") or []:
            promise = (e.get("inclusionPromise") or {}).get("signedEntryTimestamp")
            out.append(
                LogEntry(
                    body=e["canonicalizedBody"],
                    integrated_time=int(e["integratedTime"]),
                    log_index=int(e["logIndex"]),
                    log_id=base64.b64decode(e["logId"]["keyId"]),
                    set=base64.b64decode(promise) if promise else None,
                )
            )
        return out
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise InputError(f"malformed transparency log entry in the bundle: {exc!r}") from exc


def load_log_keys(trusted_root: Path) -> list[LogKey]:
    try:
        doc = json.loads(trusted_root.read_bytes())
        keys = []
        for t in doc.get("tlogs") or []:
            pk = t["publicKey"]
            key = serialization.load_der_public_key(base64.b64decode(pk["rawBytes"]))
            if not isinstance(key, ec.EllipticCurvePublicKey):
                continue
            valid = pk.get("validFor") or {}
            keys.append(
                LogKey(
                    log_id=base64.b64decode(t["logId"]["keyId"]),
                    key=key,
                    url=t.get("baseUrl", ""),
                    start=_time(valid.get("start")),
                    end=_time(valid.get("end")),
                )
            )
        return keys
    except (OSError, ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InputError(f"the trusted root {trusted_root} cannot be read: {exc!r}") from exc


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def verify_set(entry: LogEntry, keys: list[LogKey]) -> tuple[bool | None, str]:
    """(True, what) when the SET verifies; (False, why) when it does not;
    (None, why) when this trusted root does not know the log."""
    if entry.set is None:
        return None, "the entry has no signed entry timestamp"
    log = next((k for k in keys if k.log_id == entry.log_id), None)
    if log is None:
        return None, f"log {entry.log_id.hex()[:16]}… is not in the trusted root"
    when = dt.datetime.fromtimestamp(entry.integrated_time, dt.timezone.utc)
    if (log.start and when < log.start) or (log.end and when > log.end):
        return False, f"the entry's time {when:%Y-%m-%d} is outside the log key's validity"
    payload = json.dumps(
        {
            "body": entry.body,
            "integratedTime": entry.integrated_time,
            "logID": entry.log_id.hex(),
            "logIndex": entry.log_index,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    try:
        log.key.verify(entry.set, payload, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False, f"the signed entry timestamp of log index {entry.log_index} does not verify"
    return True, (
        f"Rekor signed entry timestamp (log index {entry.log_index}, "
        f"{when:%Y-%m-%d %H:%M} UTC, {log.url or 'log ' + entry.log_id.hex()[:16]})"
    )

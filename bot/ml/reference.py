"""The live version's reference data, found by the digest its lineage recorded.

The version record says which data the live model was trained on
(`lineage.data`: path -> DVC md5). The working copy is used when it still
has that digest; otherwise the bytes come from the local DVC cache, where
DVC 3 stores them by that same md5. Anything else is an error, never a
silent comparison against the wrong data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.errors import InputError
from bot.ml.lineage import dvc_md5
from bot.registry.schema import VersionRecord


@dataclass(frozen=True)
class Reference:
    path: Path  # a readable file holding the reference data
    shown: str  # the repository path it stands for
    digest: str | None
    note: str


def cache_object(root: Path, md5: str) -> Path:
    return root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def live_reference(root: Path, rel: str, record: VersionRecord) -> Reference:
    digest = record.lineage.data.get(rel)
    working = root / rel
    if digest is None:
        raise InputError(
            f"{record.model} {record.version} records no digest for its reference data {rel}; "
            "give --reference explicitly."
        )
    if working.is_file() and dvc_md5(working) == digest:
        return Reference(working, rel, digest, "working copy (matches the recorded digest)")
    cached = cache_object(root, digest)
    if cached.is_file() and dvc_md5(cached) == digest:
        return Reference(cached, rel, digest, "DVC cache (the working copy has changed since)")
    raise InputError(
        f"the reference data of {record.model} {record.version} ({rel}, md5 {digest[:12]}…) is "
        "neither in the working tree nor in the local DVC cache: "
        "run `dvc pull` or give --reference."
    )

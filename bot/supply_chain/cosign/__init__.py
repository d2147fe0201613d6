"""cosign blob signatures, and the promotion gate's check of a recorded one.

The gate's entry point is here: `verify_recorded` checks a registered
version's signature from its record, against the keys and identities the
policy trusts (`trusted_keys`) and a Sigstore trusted root
(`default_trusted_root` unless the policy names one). The parts it is built
from, each usable alone (the CLI's `sign-blob` and `verify-blob` do):

- `signature`: the detached `.sig` (base64 DER ECDSA-SHA256 over the
  artifact's sha256 digest), the digest it signs, and signing;
- `certificate`: Fulcio certificates and the signer identity they name;
- `bundle`: Sigstore bundles v0.1-v0.3 and legacy cosign bundles;
- `verification`: `verify`, as `cosign verify-blob` does, with key-based and
  keyless checks, and the `SignatureVerdict` that says what was checked.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from bot.errors import InputError
from bot.supply_chain.cosign.bundle import parse_bundle
from bot.supply_chain.cosign.certificate import load_certificate
from bot.supply_chain.cosign.signature import decode_signature, parse_digest
from bot.supply_chain.cosign.verification import SignatureVerdict, TrustedKey, verify
from bot.supply_chain.evidence import SignatureEvidence
from bot.supply_chain.keys import load_public_key
from bot.supply_chain.policy import CosignPolicy

__all__ = ["default_trusted_root", "trusted_keys", "verify_recorded"]


def default_trusted_root() -> Path | None:
    """The production Sigstore trusted root shipped inside `sigstore`, used offline.

    It is as fresh as the installed `sigstore` release (no TUF refresh); a
    policy's `trusted_root` overrides it (private or staging instances).
    """
    try:
        root = files("sigstore") / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
        path = Path(str(root / "trusted_root.json"))
    except (ImportError, ModuleNotFoundError, TypeError):
        return None
    return path if path.is_file() else None


def trusted_keys(policy: CosignPolicy, repo_root: Path) -> list[TrustedKey]:
    """Keys from the policy: PEM text inline, or a path relative to the repository."""
    out = []
    for entry in policy.trusted_keys:
        if "-----BEGIN" in entry:
            label, data = "a key given inline in the policy", entry.encode()
        else:
            path = (repo_root / entry).resolve()
            if not path.is_relative_to(repo_root.resolve()):
                raise InputError(f"trusted key {entry} is outside the repository")
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise InputError(f"trusted key {entry} cannot be read: {exc}") from exc
            label = entry
        out.append(TrustedKey(label, load_public_key(data, name=f"trusted key {label}")))
    return out


def verify_recorded(
    artifact_sha256: str,
    evidence: SignatureEvidence,
    policy: CosignPolicy,
    repo_root: Path,
) -> SignatureVerdict:
    """Check a registered version's signature from its recorded digest alone. Never raises."""
    try:
        digest = parse_digest(artifact_sha256)
        bundle = parse_bundle(evidence.bundle, name="recorded bundle") if evidence.bundle else None
        certificate = None
        if evidence.certificate:
            certificate = load_certificate(evidence.certificate.encode(), name="recorded cert")
        signature = None if bundle else decode_signature(evidence.signature)
        keyless = (bundle is not None and bundle.certificate is not None) or certificate
        keys = [] if keyless else trusted_keys(policy, repo_root)
        if not keyless and not keys:
            return SignatureVerdict(False, "the policy lists no trusted cosign key")
        if keyless and not policy.identities:
            identity = evidence.identity or "an unknown signer"
            return SignatureVerdict(
                False,
                f"the version is signed keyless by {identity}, but the policy trusts no "
                "keyless identity",
                identity=evidence.identity,
                issuer=evidence.issuer,
                kind="keyless",
            )
        root = (repo_root / policy.trusted_root) if policy.trusted_root else None
        root = root or default_trusted_root()
        return verify(
            digest,
            signature,
            keys=keys,
            bundle=bundle,
            certificate=certificate,
            identities=policy.identities,
            trusted_root=root,
            require_chain=True,
        )
    except InputError as exc:
        return SignatureVerdict(False, f"the recorded signature cannot be checked: {exc}")

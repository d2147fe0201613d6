"""`mlbot verify-blob`: verify a cosign blob signature, as `cosign verify-blob` does."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifact", metavar="ARTIFACT", nargs="?", help="the signed file")
    parser.add_argument(
        "--digest",
        metavar="sha256:HEX",
        help="verify from the artifact's digest instead of the file (no download needed)",
    )
    parser.add_argument("--key", metavar="KEY.pub", help="PEM public key of the signer")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--signature", metavar="FILE", help="base64 signature (cosign .sig)")
    src.add_argument(
        "--bundle", metavar="FILE", help="Sigstore bundle (v0.1-v0.3) or legacy cosign bundle"
    )
    parser.add_argument(
        "--certificate", metavar="FILE", help="keyless: the Fulcio certificate (PEM)"
    )
    parser.add_argument(
        "--certificate-identity", metavar="SAN", help="keyless: the signer identity to require"
    )
    parser.add_argument(
        "--certificate-oidc-issuer", metavar="URL", help="keyless: the OIDC issuer to require"
    )
    parser.add_argument(
        "--trusted-root",
        metavar="FILE",
        help="keyless: Sigstore trusted_root.json to verify the chain and Rekor entry offline "
        "(default: the production root shipped with the `sigstore` library)",
    )
    parser.add_argument(
        "--insecure-signature-only",
        action="store_true",
        help="keyless: accept a valid signature without a verified chain or identity",
    )
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from bot.errors import InputError
    from bot.supply_chain.collect import file_sha256, read_bytes
    from bot.supply_chain.cosign import default_trusted_root
    from bot.supply_chain.cosign.bundle import parse_bundle
    from bot.supply_chain.cosign.certificate import load_certificate
    from bot.supply_chain.cosign.signature import decode_signature, parse_digest
    from bot.supply_chain.cosign.verification import TrustedKey, verify
    from bot.supply_chain.keys import load_public_key
    from bot.supply_chain.policy import CosignIdentity
    from bot.supply_chain.render import signature_text

    if (args.artifact is None) == (args.digest is None):
        raise InputError("give the ARTIFACT file or --digest sha256:..., not both")
    digest = parse_digest(args.digest or file_sha256(args.artifact))

    bundle = signature = certificate = None
    if args.bundle:
        bundle = parse_bundle(read_bytes(args.bundle, "bundle"), name=args.bundle)
    else:
        signature = decode_signature(read_bytes(args.signature, "signature"), name=args.signature)
    if args.certificate:
        certificate = load_certificate(read_bytes(args.certificate, "certificate"))
    keyless = certificate is not None or (bundle is not None and bundle.certificate is not None)
    keys = []
    if args.key:
        if keyless:
            raise InputError("--key is for key-based signatures; this one carries a certificate")
        key = load_public_key(read_bytes(args.key, "public key"), name=args.key)
        keys.append(TrustedKey(args.key, key))
    elif not keyless:
        raise InputError("--key is required for a signature made with a key")
    if bool(args.certificate_identity) != bool(args.certificate_oidc_issuer):
        raise InputError("give both --certificate-identity and --certificate-oidc-issuer")
    identities = []
    if args.certificate_identity:
        identities.append(
            CosignIdentity(subject=args.certificate_identity, issuer=args.certificate_oidc_issuer)
        )
    verdict = verify(
        digest,
        signature,
        keys=keys,
        bundle=bundle,
        certificate=certificate,
        identities=identities,
        trusted_root=Path(args.trusted_root) if args.trusted_root else default_trusted_root(),
        require_chain=not args.insecure_signature_only,
        require_identity=not args.insecure_signature_only,
    )
    if args.json:
        print(json.dumps(dataclasses.asdict(verdict), indent=2))
    else:
        print(signature_text(verdict), end="")
    return 0 if verdict.verified else 1

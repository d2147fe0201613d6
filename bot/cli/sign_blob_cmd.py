"""`mlbot sign-blob ARTIFACT --key KEY`: a signature `cosign verify-blob` accepts."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifact", metavar="ARTIFACT", help="the file to sign")
    parser.add_argument(
        "--key",
        metavar="KEY",
        required=True,
        help="PEM private key: PKCS#8 EC, or cosign's encrypted key (password in COSIGN_PASSWORD)",
    )
    parser.add_argument(
        "--output-signature",
        metavar="FILE",
        help="write the base64 signature here (no newline, as cosign) instead of stdout",
    )
    parser.set_defaults(func=run)


def read_password() -> bytes | None:
    """COSIGN_PASSWORD as cosign reads it: set (even empty) wins; else ask on a terminal."""
    if "COSIGN_PASSWORD" in os.environ:
        return os.environ["COSIGN_PASSWORD"].encode()
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Enter password for private key: ").encode()
    return None


def run(args: argparse.Namespace) -> int:
    from bot.errors import InputError
    from bot.supply_chain.collect import file_sha256, read_bytes
    from bot.supply_chain.cosign.signature import parse_digest, sign_digest
    from bot.supply_chain.keys import COSIGN_LABELS, load_private_key, pem_label

    data = read_bytes(args.key, "private key")
    label = pem_label(data)
    password = read_password() if label in (*COSIGN_LABELS, "ENCRYPTED PRIVATE KEY") else None
    key = load_private_key(data, password, name=args.key)
    digest = parse_digest(file_sha256(args.artifact))
    signature = sign_digest(key, digest)
    if args.output_signature:
        try:
            Path(args.output_signature).write_text(signature, encoding="ascii")
        except OSError as exc:
            raise InputError(
                f"cannot write {args.output_signature}: {exc.strerror or exc}"
            ) from exc
        print(f"Wrote signature to {args.output_signature}", file=sys.stderr)
    else:
        print(signature)
    return 0

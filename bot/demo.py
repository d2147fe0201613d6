"""`make demo`: the registry loop on a fresh temporary repository, with no network.

init, register two versions, promote through staging to production, diff,
roll back, then show the registry and its audit log.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.cli import main as mlbot


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _step(title: str, *args: str) -> None:
    print(f"\n$ mlbot {' '.join(args)}   # {title}")
    code = mlbot(list(args))
    if code != 0 and title != "refused on purpose":
        sys.exit(f"demo step failed: {title} (exit {code})")


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="mlbot-demo-"))
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.name", "Demo User")
    _git(root, "config", "user.email", "demo@example.com")
    r = ["--repo", str(root)]
    _step("scaffold", "init", "--model", "churn", *r)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "chore: add mlbot")

    art = root / "model.bin"
    metrics = root / "metrics.json"
    for n, acc in ((1, 0.90), (2, 0.93)):
        art.write_bytes(f"model weights {n}".encode())
        metrics.write_text(json.dumps({"accuracy": acc, "f1": acc - 0.04}))
        _step(
            f"register model {n}",
            "registry",
            "register",
            "churn",
            "--artifact",
            str(art),
            "--metrics",
            str(metrics),
            *r,
        )
    _step("refused on purpose", "registry", "promote", "churn", "v0.1.0", "--to", "production", *r)
    _step("promote", "registry", "promote", "churn", "v0.1.0", "--to", "staging", *r)
    _step(
        "promote",
        "registry",
        "promote",
        "churn",
        "v0.1.0",
        "--to",
        "production",
        "--approved-by",
        "owner@example.com",
        *r,
    )
    _step("promote", "registry", "promote", "churn", "v0.2.0", "--to", "staging", *r)
    _step("diff against production", "diff", "churn", "--metrics", str(metrics), "--markdown", *r)
    _step(
        "promote",
        "registry",
        "promote",
        "churn",
        "v0.2.0",
        "--to",
        "production",
        "--approved-by",
        "owner@example.com",
        "--refs",
        "#7",
        *r,
    )
    _step("roll back", "registry", "rollback", "churn", "--because", "latency spike", *r)
    _step("show", "registry", "show", *r)
    _step("audit log", "registry", "history", "churn", *r)
    _step("check", "registry", "check", *r)
    print(
        f"\nDone. The registry is in {root}: try `git -C {root} log --format=%B` "
        f"and `gto show --repo {root}`."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`mlbot registry ...`: register, promote, roll back, deprecate, show, history, check."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from bot.cli.repo import add_repo_argument, open_repo, print_json, read_json
from bot.config.load import policy_for
from bot.errors import InputError
from bot.registry import audit, schema
from bot.registry.names import check_stage_name

HELP = {
    "register": "record a new immutable version of a model (one commit, one tag)",
    "promote": "assign a registered version to a stage, through the policy's gates",
    "rollback": "point a stage back at its previous (or a named) version",
    "deprecate": "mark a version as not to be used again",
    "show": "what is registered and what is live, per model",
    "history": "every registry event of a model, with who asked and who approved",
    "check": "validate the registry: files, schemas, tags, immutability",
    "import": "write records for the versions GTO registered (one commit, no tag changed)",
}


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="registry_command", metavar="ACTION", required=True)

    p = sub.add_parser("register", help=HELP["register"], description=HELP["register"])
    p.add_argument("model")
    p.add_argument("--artifact", type=Path, help="the model file (digest and size are taken)")
    p.add_argument("--uri", help="where the artifact lives, if not at --artifact's path")
    p.add_argument("--candidate", type=Path, help="candidate.json written by `mlbot train`")
    p.add_argument("--metrics", type=Path, help="metrics JSON file")
    p.add_argument("--params", type=Path, help="params JSON or YAML file")
    p.add_argument("--version", help="vX.Y.Z (default: bump the latest by policy)")
    p.add_argument("--signature", type=Path, help="cosign signature of the artifact")
    p.add_argument("--bundle", type=Path, help="Sigstore or cosign bundle of the artifact")
    p.add_argument("--key", type=Path, help="public key that verifies --signature/--bundle")
    p.add_argument("--certificate", type=Path, help="keyless: the Fulcio certificate (PEM)")
    p.add_argument("--scan-report", type=Path, help="Trivy JSON report of the artifact")
    _audit_args(p)
    p.set_defaults(func=run_register)

    p = sub.add_parser("promote", help=HELP["promote"], description=HELP["promote"])
    p.add_argument("model")
    p.add_argument("version")
    p.add_argument("--to", required=True, dest="stage", help="target stage")
    _audit_args(p)
    p.set_defaults(func=run_promote)

    p = sub.add_parser("rollback", help=HELP["rollback"], description=HELP["rollback"])
    p.add_argument("model")
    p.add_argument(
        "--stage", help="stage to roll back (default: the policy's baseline stage, production)"
    )
    p.add_argument("--to", dest="target", help="version to restore (default: the previous)")
    _audit_args(p)
    p.set_defaults(func=run_rollback)

    p = sub.add_parser("deprecate", help=HELP["deprecate"], description=HELP["deprecate"])
    p.add_argument("model")
    p.add_argument("version")
    _audit_args(p)
    p.set_defaults(func=run_deprecate)

    p = sub.add_parser("show", help=HELP["show"], description=HELP["show"])
    p.add_argument("model", nargs="?")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--deprecated", action="store_true", help="include models GTO deprecated (name@deprecated)"
    )
    add_repo_argument(p)
    p.set_defaults(func=run_show)

    p = sub.add_parser("history", help=HELP["history"], description=HELP["history"])
    p.add_argument("model")
    p.add_argument("--json", action="store_true")
    add_repo_argument(p)
    p.set_defaults(func=run_history)

    p = sub.add_parser("check", help=HELP["check"], description=HELP["check"])
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--committed",
        action="store_true",
        help="check the registry at HEAD only (default: the working tree, as on disk)",
    )
    add_repo_argument(p)
    p.set_defaults(func=run_check)

    p = sub.add_parser("import", help=HELP["import"], description=HELP["import"])
    _audit_args(p)
    p.set_defaults(func=run_import)


def _audit_args(p: argparse.ArgumentParser) -> None:
    add_repo_argument(p)
    p.add_argument(
        "--approved-by",
        action="append",
        default=[],
        metavar="WHO",
        help="record who you say approved (repeatable): a claim (`Claimed-approval-by:`), "
        "never an approval; only the bot records approvals it checked",
    )
    p.add_argument("--requested-by", metavar="WHO", help="default: your git identity")
    p.add_argument("--because", dest="reason", metavar="REASON", help="why, for the audit log")
    p.add_argument(
        "--refs",
        action="append",
        default=[],
        metavar="REF",
        help="issue or PR this change answers, e.g. #123 (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")


def _audit(args: argparse.Namespace, author: object, evidence: tuple[str, ...] = ()) -> audit.Audit:
    # Nobody checked these approvals (a local checkout cannot see reviews): the audit log
    # says who claimed them, under a trailer no reader takes for `Approved-by`.
    claims = {audit.CLAIMED_APPROVAL: ", ".join(args.approved_by)} if args.approved_by else {}
    return audit.Audit(
        requested_by=args.requested_by or str(author),
        evidence=evidence,
        refs=tuple(args.refs),
        reason=args.reason,
        extra=claims,
    )


def _report(args: argparse.Namespace, outcome, what: str) -> int:
    if args.json:
        print_json(
            {
                "action": outcome.change.action,
                "model": outcome.change.model,
                "version": outcome.change.version,
                "stage": outcome.change.stage,
                "previous": outcome.change.previous,
                "commit": outcome.commit,
                "tags": outcome.tags,
                "checks": outcome.verdict.to_json()["checks"] if outcome.verdict else [],
                "notes": list(outcome.notes),  # what each post-write projection did
            }
        )
    else:
        print(f"{what} in {outcome.commit[:12]}; tags: {', '.join(outcome.tags)}")
        if outcome.verdict:
            for check in outcome.verdict.checks:
                print(f"  {check.status:4} {check.name}: {check.reason}")
        for note in outcome.notes:
            print(f"  {note}")
    return 0


def _file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        raise InputError(f"artifact {path} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"artifact {path} is a directory; register a single file.") from None
    return h.hexdigest(), size


def _relative_uri(path: Path, root: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return resolved.as_uri()


def run_register(args: argparse.Namespace) -> int:
    repo = open_repo(args)
    model = repo.model(args.model)
    candidate = read_json(args.candidate, "candidate") if args.candidate else {}
    artifact_path = args.artifact or (
        Path(candidate["artifact"]["path"]) if candidate.get("artifact") else None
    )
    if artifact_path is None:
        raise InputError("give the model file with --artifact (or a --candidate file).")
    if not artifact_path.is_absolute() and args.candidate and not args.artifact:
        artifact_path = repo.root / artifact_path
    sha256, size = _file_digest(artifact_path)
    artifact = schema.Artifact(
        uri=args.uri
        or (candidate.get("artifact") or {}).get("uri")
        or _relative_uri(artifact_path, repo.root),
        sha256=sha256,
        size=size,
    )
    metrics = read_json(args.metrics, "metrics") if args.metrics else candidate.get("metrics", {})
    params = candidate.get("params", {})
    if args.params:
        from bot.registry import yamlio

        params = yamlio.load(args.params.read_bytes()) or {}
    lineage = schema.Lineage.model_validate(candidate.get("lineage", {}))
    slices = candidate.get("slices", {})
    evidence = _evidence(args, repo, model, sha256)
    trail = [f"artifact sha256:{sha256}"]
    if evidence.signature:
        trail.append(
            f"signature {evidence.signature.kind} "
            f"{evidence.signature.key_fingerprint or evidence.signature.identity}"
        )
    if evidence.scan:
        trail.append(
            f"trivy report sha256:{evidence.scan.report_sha256} "
            f"({'pass' if evidence.scan.passed else 'blocking findings'})"
        )
    outcome = repo.registry().register(
        model,
        artifact=artifact,
        audit_info=_audit(args, repo.author, tuple(trail)),
        version=args.version,
        metrics=metrics,
        params=params,
        slices=slices,
        lineage=lineage,
        evidence=evidence,
    )
    return _report(args, outcome, f"registered {model} {outcome.change.version}")


def _evidence(args: argparse.Namespace, repo, model: str, sha256: str) -> schema.Evidence:
    signature = scan = None
    if args.signature or args.bundle:
        if not (args.key or args.certificate or args.bundle):
            raise InputError("--signature needs the public key (--key) or a --certificate.")
        from bot.supply_chain.collect import signature_evidence_from_files

        signature = signature_evidence_from_files(
            sha256,
            key_path=args.key,
            signature_path=args.signature,
            bundle_path=args.bundle,
            certificate_path=args.certificate,
        )
    if args.scan_report:
        from bot.supply_chain.collect import scan_evidence_from_report

        policy = policy_for(repo.config, model, repo.root)
        scan = scan_evidence_from_report(args.scan_report, policy.supply_chain.trivy)
    return schema.Evidence(signature=signature, scan=scan)


def run_promote(args: argparse.Namespace) -> int:
    repo = open_repo(args)
    model = repo.model(args.model)
    check_stage_name(args.stage)
    outcome = repo.registry().promote(
        model, args.version, args.stage, audit_info=_audit(args, repo.author)
    )
    prev = f" (was {outcome.change.previous})" if outcome.change.previous else ""
    return _report(args, outcome, f"promoted {model} {args.version} to {args.stage}{prev}")


def run_rollback(args: argparse.Namespace) -> int:
    repo = open_repo(args)
    model = repo.model(args.model)
    if args.stage is None:
        args.stage = policy_for(repo.config, model, repo.root).baseline_stage
    check_stage_name(args.stage)
    outcome = repo.registry().rollback(
        model, args.stage, to=args.target, audit_info=_audit(args, repo.author)
    )
    what = (
        f"rolled back {model} {args.stage} from {outcome.change.previous} "
        f"to {outcome.change.version}"
    )
    return _report(args, outcome, what)


def run_deprecate(args: argparse.Namespace) -> int:
    repo = open_repo(args)
    model = repo.model(args.model)
    outcome = repo.registry().deprecate(model, args.version, audit_info=_audit(args, repo.author))
    return _report(args, outcome, f"deprecated {model} {args.version}")


def _reader(args: argparse.Namespace):
    """The registry for a read-only command: the checked-out branch, or a detached HEAD."""
    from bot.registry.git_store import GitStore

    return GitStore(Path(args.repo).resolve(), read_only=True)


def run_show(args: argparse.Namespace) -> int:
    from bot.registry.views import show

    data = show(_reader(args), args.model, deprecated=args.deprecated)
    if args.model and args.model not in data["models"]:
        raise InputError(f"no model '{args.model}' in the registry.")
    if args.json:
        print_json(data)
        return 0
    if not data["models"]:
        print("no models registered yet")
    for name, info in data["models"].items():
        live = ", ".join(f"{s}: {v}" for s, v in info["stages"].items()) or "no stage"
        print(f"{name}  latest {info['latest']}  ({len(info['versions'])} versions)  {live}")
        if info["from_tags"]:
            print(
                f"  {len(info['from_tags'])} version(s) known only from GTO tags "
                f"({', '.join(info['from_tags'][-3:])}): `mlbot registry import` "
                "writes their records"
            )
    return 0


def run_history(args: argparse.Namespace) -> int:
    from bot.registry.views import history

    events = history(_reader(args), args.model)
    if args.json:
        print_json(events)
        return 0
    if not events:
        print(f"no registry events for {args.model}")
    for e in events:
        where = f" {e['stage']}" if e["stage"] else ""
        who = f"  by {e['requested_by']}" if e["requested_by"] else ""
        approved = f", approved by {', '.join(e['approved_by'])}" if e["approved_by"] else ""
        if e.get("claimed_approval_by"):
            # The CLI's --approved-by: said, never checked; shown so, never as an approval.
            approved += f", approval claimed by {', '.join(e['claimed_approval_by'])} (unchecked)"
        print(
            f"{e['timestamp']}  {e['event']:<14} {e['version']}{where}  {e['tag']}{who}{approved}"
        )
    return 0


def run_check(args: argparse.Namespace) -> int:
    from bot.registry.check import check

    store = _reader(args)
    worktree = None if args.committed or store.bare else store.root
    found = check(store, worktree)
    problems = [p for p in found if p.level == "error"]
    notes = [p for p in found if p.level == "info"]
    if args.json:
        print_json(
            {
                "ok": not problems,
                "checked": "HEAD" if worktree is None else "working tree",
                "problems": [{"where": p.where, "what": p.what} for p in problems],
                "info": [{"where": p.where, "what": p.what} for p in notes],
            }
        )
        return 1 if problems else 0
    for p in notes:
        print(f"info: {p}")
    for p in problems:
        print(p)
    where = "at HEAD" if worktree is None else "in the working tree"
    if problems:
        print(f"{len(problems)} problem(s) found {where}")
    else:
        print(f"registry OK ({where})")
    return 1 if problems else 0


def run_import(args: argparse.Namespace) -> int:
    from bot.registry.adopt import import_tags
    from bot.registry.git_store import GitStore

    store = GitStore(Path(args.repo).resolve())
    author = store.identity()
    change, commit = import_tags(store, author, _audit(args, author))
    if args.json:
        print_json(
            {
                "commit": commit,
                "files": sorted(change.files) if change else [],
                "tags": [],
            }
        )
        return 0
    if change is None or commit is None:
        print("nothing to import: every version GTO registered has its record")
        return 0
    records = [p for p in change.files if "/versions/" in p]
    print(
        f"imported {len(records)} version record(s) in {commit[:12]} ({change.model}); "
        "no tag was changed"
    )
    for path in sorted(change.files):
        print(f"  {path}")
    return 0

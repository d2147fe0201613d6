"""The PR metric comment: one sticky comment per model per PR, edited in place.

When a model's workflow run completes for a pull request (or `/status` is
asked in one), the bot reads that run's `evaluation.json` artifact (plus the
scan and signature evidence the same run uploaded), compares the candidate
with what the registry says is live in the baseline stage, judges it with
the policy read from the **default branch**, and writes one comment:
the diff table, the verdict, supply-chain status and a Mermaid chart of the
metric over recent production versions and the candidate.

Stickiness: each comment starts with a hidden marker naming the model and
the part; every page of comments is searched, only the bot's own comments
count, and an existing comment is always edited rather than a new one
posted. Past GitHub's 65,536-character limit the text is split on line
boundaries into numbered parts, closing and reopening code fences and
`<details>` blocks and repeating a table's header, so every part renders.

Runs from fork PRs are read as data only (JSON out of a zip, never executed,
every value escaped); the App comments with its own token, and the comment
says that the numbers are what the fork's code reported.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from bot.diff.render import GITHUB_COMMENT_LIMIT, comment_markdown

if TYPE_CHECKING:
    from bot.config.schema import RepoConfig
    from bot.github.client import GitHub
    from bot.policy.schema import Policy
    from bot.registry.state import ModelState
    from bot.webhooks.payloads import WorkflowRunEvent

log = logging.getLogger(__name__)

MARKER_PREFIX = "<!-- mlbot:metrics:"
_MARKER_RE = re.compile(r"\A<!-- mlbot:metrics:(?P<model>[A-Za-z0-9._-]+) part=(?P<part>\d+) -->")
# Room kept in each part for its marker, its "part i of n" line and the closers the split adds.
_PART_RESERVE = 400
# Production versions shown in the chart before the candidate.
CHART_VERSIONS = 8
# Workflow runs looked at for `/status` (newest first) before giving up.
STATUS_RUNS = 10
PR_EVENTS = frozenset({"pull_request", "pull_request_target"})
EVALUATION_ARTIFACT = "mlbot-evaluation-{model}"
SCAN_ARTIFACT = "mlbot-scan-{model}"
SIGNATURE_ARTIFACT = "mlbot-signature-{model}"


@dataclass(frozen=True)
class CommentOutcome:
    """What happened to one model's comment on one PR."""

    model: str | None
    action: str  # created, updated, unchanged, skipped
    number: int | None = None
    urls: tuple[str, ...] = ()
    reason: str | None = None
    parts: int = 0


# -- pure: markers, splitting, chart -------------------------------------------------------------
def marker(model: str, part: int = 1) -> str:
    return f"{MARKER_PREFIX}{model} part={part} -->"


def parse_marker(body: str | None) -> tuple[str, int] | None:
    """(model, part) of a metric comment's body, or None for any other comment."""
    found = _MARKER_RE.match(body or "")
    return (found["model"], int(found["part"])) if found else None


_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_TABLE_SEPARATOR_RE = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


@dataclass
class _Open:
    """Block structure open at the current line: what a cut must close and reopen."""

    fence: str | None = None  # the fence's opening line
    fence_mark: str = ""
    details: list[str] = field(default_factory=list)  # opening lines, outermost first
    table_header: list[str] = field(default_factory=list)
    previous: str = ""

    def closers(self) -> str:
        out = ""
        if self.fence is not None:
            out += self.fence_mark + "\n"
        out += "\n</details>\n" * len(self.details)
        return out

    def reopeners(self) -> list[str]:
        # The blank line after each opening lets Markdown (a table) render inside it.
        out = [_continued(d) + "\n" for d in self.details]
        if self.fence is not None:
            out.append(self.fence)
        elif self.table_header:
            out.extend(self.table_header)
        return out

    def feed(self, line: str) -> None:
        stripped = line.strip()
        if self.fence is not None:
            if (
                stripped
                and set(stripped) == {self.fence_mark[0]}
                and len(stripped) >= len(self.fence_mark)
            ):
                self.fence = None
            self.previous = line
            return
        opened = _FENCE_RE.match(line)
        if opened:
            self.fence, self.fence_mark = line if line.endswith("\n") else line + "\n", opened[1]
            self.table_header = []
        else:
            lowered = stripped.lower()
            for _ in range(lowered.count("<details")):
                self.details.append(line if line.endswith("\n") else line + "\n")
            for _ in range(lowered.count("</details>")):
                if self.details:
                    self.details.pop()
            if stripped.startswith("|") and _TABLE_SEPARATOR_RE.match(stripped):
                self.table_header = [self.previous, line]
            elif not stripped.startswith("|"):
                self.table_header = []
        self.previous = line


def _continued(opening: str) -> str:
    """A `<details>` opening line for a continued block: same summary, marked continued."""
    if "</summary>" in opening:
        return opening.replace("</summary>", " (continued)</summary>", 1)
    return opening


def _hard_wrap(line: str, width: int) -> Iterator[str]:
    """A line longer than a whole part (pathological input) cut into pieces that fit."""
    body = line.rstrip("\n")
    for start in range(0, len(body), width):
        yield body[start : start + width] + "\n"


def split_markdown(text: str, limit: int) -> list[str]:
    """Cut Markdown into pieces of at most `limit` characters, each of which renders.

    Cuts fall between lines. A cut inside a fenced code block closes the fence
    and reopens it (same info string) in the next piece; open `<details>`
    blocks are closed and reopened with their summary marked "(continued)";
    a cut inside a table repeats the table's header row.
    """
    if len(text) <= limit:
        return [text]
    if limit < 200:
        raise ValueError("a part must hold at least 200 characters")
    state = _Open()
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    width = max(100, limit // 4)
    lines = [p for line in text.splitlines(keepends=True) for p in _pieces(line, width)]
    for line in lines:
        if current and size + len(line) + len(state.closers()) > limit:
            pieces.append("".join(current) + state.closers())
            current = state.reopeners()
            size = sum(len(x) for x in current)
        current.append(line)
        size += len(line)
        state.feed(line)
    if current:
        pieces.append("".join(current))
    return pieces


def _pieces(line: str, width: int) -> Iterator[str]:
    if len(line) <= width:
        yield line
    else:
        yield from _hard_wrap(line, width)


_LABEL_RE = re.compile(r"[^A-Za-z0-9._+-]")


def _label(text: str) -> str:
    """Chart text from data a PR controls: only characters Mermaid cannot misread."""
    return _LABEL_RE.sub("_", str(text))[:40] or "_"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def chart_data(
    metric: str, history: Sequence[tuple[str, object]], candidate: object
) -> dict[str, Any] | None:
    """Labels, values and y range of the chart; None when there is nothing to draw."""
    points = [(_label(v), n) for v, value in history if (n := _number(value)) is not None]
    cand = _number(candidate)
    if cand is not None:
        points.append(("candidate", cand))
    if not points:
        return None
    values = [v for _, v in points]
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or max(abs(high) * 0.05, 0.01)
    return {
        "metric": _label(metric),
        "labels": [label for label, _ in points],
        "points": [round(v, 6) for v in values],
        "y_min": round(low - pad, 6),
        "y_max": round(high + pad, 6),
        "versions": len(points) - (1 if cand is not None else 0),
        "has_candidate": cand is not None,
    }


def chart_metric(policy: Policy | None, candidate_metrics: Mapping[str, object]) -> str | None:
    """The metric to chart: the policy's first gated metric the candidate has, else its first."""
    numeric = [k for k, v in candidate_metrics.items() if _number(v) is not None]
    for name in policy.metrics if policy is not None else ():
        if name in numeric:
            return name
    return numeric[0] if numeric else None


# -- templates -----------------------------------------------------------------------------------
@cache
def _env():
    from bot import rendering

    return rendering.environment("bot.chatops")


def render(name: str, **context: Any) -> str:
    return _env().get_template(name).render(**context)


# -- judging a run's evaluation against the registry -------------------------------------------
@dataclass
class Evidence:
    """What one run uploaded for one model, already parsed (data only, never executed)."""

    evaluation: dict[str, Any] | None
    scan: dict[str, Any] | None = None
    signature: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)


def compare_with_registry(
    evaluation: Mapping[str, Any],
    state: ModelState | None,
    policy: Policy | None,
) -> tuple[dict[str, Any], list[str]]:
    """The evaluation as the comment shows it, and notes on what was changed and why.

    Production comes from the registry: the run's own measurement is kept
    when it measured the version live now (same rows, like with like);
    otherwise the live version's recorded metrics replace it. The verdict
    is judged again under the default branch's policy.
    """
    from bot.policy.evidence import GateEvidence
    from bot.policy.gates import evaluate_candidate

    out = json.loads(json.dumps(evaluation))  # a deep copy of plain JSON
    notes: list[str] = []
    candidate = out.setdefault("candidate", {})
    if not isinstance(candidate, dict):
        candidate = out["candidate"] = {}
    for key in ("params", "lineage"):
        if key not in candidate and isinstance(out.get(key), dict):
            candidate[key] = out[key]
    measured = out.get("production") if isinstance(out.get("production"), dict) else None
    stage = policy.baseline_stage if policy is not None else "production"
    live = state.live.get(stage) if state is not None else None
    record = None
    if live is not None and state is not None:
        try:
            record = state.record(live)
        except Exception as exc:  # a broken record must not hide the comment
            notes.append(f"The record of {stage} {live} could not be read: {exc}")
    production: dict[str, Any] | None
    if live is None:
        production = None
        if measured:
            notes.append(
                f"The run compared with {measured.get('version')}, but nothing is live in "
                f"{stage} now: only the thresholds apply."
            )
    elif measured and measured.get("version") == live:
        production = dict(measured)
    else:
        production = {
            "version": live,
            "metrics": dict(record.metrics) if record else {},
            "slices": {k: v.model_dump() for k, v in record.slices.items()} if record else {},
        }
        ran = measured.get("version") if measured else None
        notes.append(
            f"{stage.capitalize()} is {live} in the registry"
            + (f", but the run compared with {ran}" if ran else ", which the run did not measure")
            + f": its column shows {live}'s metrics as recorded at registration."
        )
    if production is not None and record is not None:
        production.setdefault("params", dict(record.params))
        production.setdefault("lineage", record.lineage.model_dump(exclude_none=True))
    out["production"] = production
    if policy is not None:
        from bot.registry.schema import SliceMetric

        try:
            slices = {
                k: SliceMetric.model_validate(v) for k, v in (candidate.get("slices") or {}).items()
            }
        except Exception:
            slices = None
            notes.append("The run's slice metrics are malformed; slice gates cannot pass.")
        metrics = candidate.get("metrics") if isinstance(candidate.get("metrics"), dict) else {}
        verdict = evaluate_candidate(
            policy,
            GateEvidence(
                stage=stage,
                version=str(candidate.get("version") or "the candidate"),
                metrics=metrics,
                baseline_version=live if production else None,
                baseline_metrics=(production or {}).get("metrics") if production else None,
                slices=slices,
            ),
        )
        out["verdict"] = verdict.to_json()
        out["policy"] = policy.name
    return out, notes


def supply_chain_rows(evidence: Evidence, policy: Policy | None) -> list[dict[str, str]]:
    """One row for the scan and one for the signature: status and what the policy asks."""

    def required(flag: str) -> list[str]:
        if policy is None:
            return []
        return [s for s in policy.stages if getattr(policy.for_stage(s), flag)]

    rows = []
    scan, need_scan = evidence.scan, required("require_scan")
    if scan is None:
        status = "➖ not run in this workflow run"
    elif scan.get("passed") is True:
        counts = scan.get("counts") or {}
        shown = ", ".join(f"{k.lower()} {v}" for k, v in counts.items() if v) or "no findings"
        status = f"✅ no blocking finding ({shown})"
    else:
        blocking = [str(b) for b in scan.get("blocking") or []]
        status = (
            f"❌ {len(blocking)} blocking finding(s): "
            + ", ".join(blocking[:10])
            + (" …" if len(blocking) > 10 else "")
        )
    rows.append({"what": "Trivy scan", "status": status, "required": ", ".join(need_scan)})
    sig, need_sig = evidence.signature, required("require_signature")
    if sig is None:
        status = "➖ not signed in this workflow run"
    elif sig.get("verified") is True:
        who = sig.get("identity") or sig.get("key_fingerprint") or sig.get("kind") or ""
        status = "✅ verified" + (f" ({who})" if who else "")
    else:
        status = f"❌ not verified: {sig.get('reason') or 'no reason given'}"
    rows.append({"what": "cosign signature", "status": status, "required": ", ".join(need_sig)})
    return rows


def production_history(
    state: ModelState | None, stage: str, metric: str
) -> list[tuple[str, object]]:
    """(version, recorded metric) of the stage's recent versions, oldest first."""
    if state is None or state.stages is None or stage not in state.stages.stages:
        return []
    entry = state.stages.stages[stage]
    versions: list[str] = []
    for v in [p.version for p in reversed(entry.previous)] + [entry.version]:
        if v in versions:
            versions.remove(v)
        versions.append(v)
    out = []
    for v in versions[-CHART_VERSIONS:]:
        try:
            out.append((v, state.record(v).metrics.get(metric)))
        except Exception as exc:  # a missing record leaves a gap, not a broken comment
            log.warning("no record of %s for the chart: %s", v, _one_line(exc))
    return out


@dataclass(frozen=True)
class RunInfo:
    id: int
    head_sha: str
    html_url: str | None
    name: str | None
    path: str | None
    conclusion: str | None
    event: str | None


def comment_body(
    model: str,
    evidence: Evidence,
    *,
    state: ModelState | None,
    policy: Policy | None,
    run: RunInfo,
    fork: bool,
) -> str:
    """The whole comment for one model, before splitting."""
    if evidence.evaluation is None:
        return render(
            "flow_metric_missing.md.j2",
            model=model,
            run=run,
            problems=evidence.problems,
            fork=fork,
        )
    shown, notes = compare_with_registry(evidence.evaluation, state, policy)
    stage = policy.baseline_stage if policy is not None else "production"
    cand_metrics = shown.get("candidate", {}).get("metrics") or {}
    metric = chart_metric(policy, cand_metrics)
    chart = None
    if metric is not None:
        chart = chart_data(
            metric, production_history(state, stage, metric), cand_metrics.get(metric)
        )
    sections = [
        render(
            "flow_metric_sections.md.j2",
            rows=supply_chain_rows(evidence, policy),
            chart=chart,
            stage=stage,
        )
    ]
    table = comment_markdown(
        model,
        shown,
        run_url=run.html_url,
        sections=sections,
        limit=10**9,  # never cut here: the sticky comment splits into parts instead
    )
    return render(
        "flow_metric_comment.md.j2",
        table=table,
        notes=notes + evidence.problems,
        fork=fork,
        run=run,
    )


def sticky_parts(model: str, body: str, limit: int = GITHUB_COMMENT_LIMIT) -> list[str]:
    """The comment bodies to post, each with its marker, each at most `limit` characters."""
    chunks = split_markdown(body, limit - _PART_RESERVE)
    total = len(chunks)
    out = []
    for index, chunk in enumerate(chunks, start=1):
        head = render(
            "flow_metric_part.md.j2", marker=marker(model, index), part=index, total=total
        )
        out.append(head + chunk)
    return out


# -- GitHub I/O ----------------------------------------------------------------------------------
_locks_guard = threading.Lock()
_locks: dict[tuple[str, int, str], threading.Lock] = {}


def _lock_for(key: tuple[str, int, str]) -> threading.Lock:
    # Two deliveries for one PR in two workers must not both create "the" comment.
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _existing_parts(
    gh: GitHub, full_name: str, number: int, model: str, bot_login: str
) -> dict[int, list[Any]]:
    """The bot's comments for this model on this PR, by part, oldest first, from every page."""
    found: dict[int, list[Any]] = {}
    me = bot_login.lower()
    for comment in gh.iter_issue_comments(full_name, number):
        parsed = parse_marker(comment.body)
        if parsed is None or parsed[0] != model:
            continue
        # Only the bot's own comments: anyone can paste a marker, nobody else's text is edited.
        if (comment.user.login or "").lower() != me:
            continue
        found.setdefault(parsed[1], []).append(comment)
    return found


def publish(
    gh: GitHub, full_name: str, number: int, model: str, parts: list[str], *, bot_login: str
) -> CommentOutcome:
    """Edit the model's comment parts in place; create only what is missing; drop extras."""
    from github.IssueComment import IssueComment

    with _lock_for((full_name.lower(), number, model)):
        existing = _existing_parts(gh, full_name, number, model, bot_login)
        created = changed = 0
        urls: list[str] = []
        for index, body in enumerate(parts, start=1):
            mine = existing.get(index, [])
            if mine:
                comment = mine[0]
                if comment.body != body:
                    comment.edit(body)
                    changed += 1
            else:
                _headers, data = gh.api.requester.requestJsonAndCheck(
                    "POST", f"/repos/{full_name}/issues/{number}/comments", input={"body": body}
                )
                comment = IssueComment(gh.api.requester, _headers, data, completed=True)
                created += 1
            urls.append(comment.html_url)
        for index, mine in existing.items():
            # Parts a shorter comment no longer needs, and duplicates left by a race elsewhere.
            for comment in mine[1:] if index <= len(parts) else mine:
                comment.delete()
                changed += 1
        if created:
            changed += _drop_raced_duplicates(gh, full_name, number, model, bot_login)
    action = "updated" if (created or changed) else "unchanged"
    if not existing.get(1):
        action = "created"
    return CommentOutcome(model, action, number, tuple(urls), parts=len(parts))


def _drop_raced_duplicates(
    gh: GitHub, full_name: str, number: int, model: str, bot_login: str
) -> int:
    """Another replica may have created the same part meanwhile: keep the oldest of each."""
    dropped = 0
    for mine in _existing_parts(gh, full_name, number, model, bot_login).values():
        for comment in sorted(mine, key=lambda c: c.id)[1:]:
            comment.delete()
            dropped += 1
    return dropped


def _run_info(data: Mapping[str, Any]) -> RunInfo:
    return RunInfo(
        id=int(data["id"]),
        head_sha=str(data.get("head_sha") or ""),
        html_url=data.get("html_url"),
        name=data.get("name"),
        path=data.get("path"),
        conclusion=data.get("conclusion"),
        event=data.get("event"),
    )


def _load_json(gh: GitHub, full_name: str, artifact_id: int, name: str) -> dict[str, Any]:
    raw = gh.read_artifact_file(full_name, artifact_id, name)
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError(f"{name} does not hold a JSON object")
    return data


def run_evidence(
    gh: GitHub, full_name: str, run_id: int, models: Sequence[str]
) -> dict[str, Evidence]:
    """Per model with an evaluation artifact in the run: its parsed evidence."""
    artifacts: dict[str, int] = {}
    listed = gh.pages(f"/repos/{full_name}/actions/runs/{run_id}/artifacts", key="artifacts")
    for art in listed:
        if not art.get("expired"):
            artifacts[str(art["name"])] = int(art["id"])
    out: dict[str, Evidence] = {}
    for model in models:
        eval_id = artifacts.get(EVALUATION_ARTIFACT.format(model=model))
        if eval_id is None:
            continue
        evidence = Evidence(None)
        try:
            evaluation = _load_json(gh, full_name, eval_id, "evaluation.json")
        except Exception as exc:
            evidence.problems.append(f"evaluation.json could not be read: {_one_line(exc)}")
        else:
            if evaluation.get("model") not in (None, model):
                evidence.problems.append(
                    f"evaluation.json is for model {evaluation.get('model')!r}, not {model!r}."
                )
            elif not isinstance(evaluation.get("candidate"), dict):
                evidence.problems.append("evaluation.json has no `candidate` object.")
            else:
                evidence.evaluation = evaluation
        for kind, artifact, filename in (
            ("scan", SCAN_ARTIFACT, "scan-evidence.json"),
            ("signature", SIGNATURE_ARTIFACT, "signature-verification.json"),
        ):
            art_id = artifacts.get(artifact.format(model=model))
            if art_id is None:
                continue
            try:
                setattr(evidence, kind, _load_json(gh, full_name, art_id, filename))
            except Exception as exc:
                evidence.problems.append(f"the {kind} evidence could not be read: {_one_line(exc)}")
        out[model] = evidence
    return out


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _workflow_models(config: RepoConfig, run: RunInfo) -> list[str]:
    """Models whose evaluation this run may carry: all, unless models name their workflows."""
    named = {m: mc.workflow for m, mc in config.models.items() if mc.workflow}
    if not named or run.path is None:
        return sorted(config.models)
    file = PurePosixPath(run.path.split("@", 1)[0]).name
    hits = sorted(m for m, wf in named.items() if PurePosixPath(wf).name == file)
    unnamed = sorted(m for m in config.models if m not in named)
    return hits + unnamed


class _Registry:
    """The default branch, read through one store: config, policies and registry state."""

    def __init__(self, gh: GitHub, full_name: str, branch: str) -> None:
        from bot.registry.github_store import GitHubStore

        self.store = GitHubStore(gh, full_name, branch)
        self.head = self.store.head()
        self.config = self._config()

    def _config(self) -> RepoConfig | None:
        from bot.config.load import parse_config
        from bot.config.schema import CONFIG_PATH

        if self.head is None:
            return None
        raw = self.store.read_files(self.head, [CONFIG_PATH]).get(CONFIG_PATH)
        return parse_config(raw, CONFIG_PATH) if raw is not None else None

    def policy(self, model: str) -> Policy:
        assert self.config is not None
        return policy_for_default_branch(self.config, model, self.store, self.head)

    def state(self, model: str) -> ModelState:
        return self.store.read_model(model, self.head)


def policy_for_default_branch(
    config: RepoConfig, model: str | None, store: Any, head: str | None
) -> Policy:
    """The policy in force, with a policy *file* read from the default branch, not a checkout."""
    import tempfile
    from pathlib import Path

    from bot.config.load import policy_for
    from bot.errors import InputError
    from bot.policy.packs import PACKS

    if config.policy in PACKS or head is None:
        return policy_for(config, model)
    path = PurePosixPath(config.policy)
    if path.is_absolute() or ".." in path.parts:
        raise InputError(f"policy file {config.policy!r} must be a path inside the repository.")
    raw = store.read_files(head, [str(path)]).get(str(path))
    if raw is None:
        raise InputError(f"policy file {config.policy} is missing from the default branch.")
    with tempfile.TemporaryDirectory(prefix="mlbot-policy-") as tmp:
        target = Path(tmp) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)
        return policy_for(config, model, Path(tmp))


def _pull(gh: GitHub, full_name: str, number: int) -> dict[str, Any]:
    return gh.rest("GET", f"/repos/{full_name}/pulls/{number}")


def _is_fork(pull: Mapping[str, Any], full_name: str) -> bool:
    head_repo = (pull.get("head") or {}).get("repo") or {}
    return str(head_repo.get("full_name") or "").lower() != full_name.lower()


def update_for_pr(
    gh: GitHub,
    full_name: str,
    number: int,
    *,
    bot_login: str,
    model: str | None = None,
    run: RunInfo | Mapping[str, Any] | None = None,
    default_branch: str | None = None,
    pull: Mapping[str, Any] | None = None,
) -> list[CommentOutcome]:
    """Post or update the metric comment(s) of PR `number`.

    `run`: the completed workflow run to read (a `RunInfo` or the run's JSON);
    None (as for `/status`) takes the newest completed run of the PR's head
    commit that uploaded an evaluation. `model` limits the comment to one
    model. Returns one outcome per model looked at; a `skipped` outcome
    carries the reason (closed PR, stale run, no evaluation yet...).
    """
    pull = pull or _pull(gh, full_name, number)
    if pull.get("state") != "open":
        return [CommentOutcome(model, "skipped", number, reason=f"#{number} is not open.")]
    head_sha = str((pull.get("head") or {}).get("sha") or "")
    info = _run_info(run) if isinstance(run, Mapping) else run
    if info is not None and info.head_sha != head_sha:
        return [
            CommentOutcome(
                model,
                "skipped",
                number,
                reason=f"run {info.id} is for {info.head_sha[:7]}, not the PR's head "
                f"{head_sha[:7]}: a newer run will report.",
            )
        ]
    branch = default_branch or str(
        ((pull.get("base") or {}).get("repo") or {}).get("default_branch") or "main"
    )
    registry = _Registry(gh, full_name, branch)
    if registry.config is None:
        return [
            CommentOutcome(
                model, "skipped", number, reason=f".github/mlbot.yml is missing on {branch}."
            )
        ]
    if model is not None and model not in registry.config.models:
        known = ", ".join(sorted(registry.config.models)) or "none"
        return [
            CommentOutcome(
                model, "skipped", number, reason=f"{model!r} is not a configured model ({known})."
            )
        ]
    fork = _is_fork(pull, full_name)
    found: dict[str, tuple[RunInfo, Evidence]] = {}
    if info is not None:
        wanted = [model] if model else _workflow_models(registry.config, info)
        for name, ev in run_evidence(gh, full_name, info.id, wanted).items():
            found[name] = (info, ev)
    else:
        wanted = [model] if model else sorted(registry.config.models)
        for candidate in _completed_runs(gh, full_name, head_sha):
            missing = [m for m in wanted if m not in found]
            if not missing:
                break
            for name, ev in run_evidence(gh, full_name, candidate.id, missing).items():
                found[name] = (candidate, ev)
    if not found:
        what = f"for {model}" if model else "for any configured model"
        where = f"run {info.id}" if info is not None else f"head {head_sha[:7]}"
        return [
            CommentOutcome(
                model, "skipped", number, reason=f"no evaluation.json {what} in {where} yet."
            )
        ]
    outcomes = []
    for name in sorted(found):
        run_of, evidence = found[name]
        state = registry.state(name)
        policy = registry.policy(name)
        body = comment_body(name, evidence, state=state, policy=policy, run=run_of, fork=fork)
        outcomes.append(
            publish(gh, full_name, number, name, sticky_parts(name, body), bot_login=bot_login)
        )
    return outcomes


def _completed_runs(gh: GitHub, full_name: str, head_sha: str) -> list[RunInfo]:
    data = gh.rest(
        "GET",
        f"/repos/{full_name}/actions/runs",
        {"head_sha": head_sha, "status": "completed", "per_page": STATUS_RUNS},
    )
    return [_run_info(r) for r in data.get("workflow_runs", [])[:STATUS_RUNS]]


def pulls_of_run(gh: GitHub, full_name: str, event: WorkflowRunEvent) -> list[dict[str, Any]]:
    """The open PRs a run evaluated: from the payload, or (fork heads) by head branch and SHA.

    GitHub leaves `workflow_run.pull_requests` empty when the head is in a
    fork, so those are found by `owner:branch` and checked against the SHA.
    """
    run = event.workflow_run
    numbers = [p.number for p in run.pull_requests]
    if numbers:
        return [_pull(gh, full_name, n) for n in numbers]
    head_repo = run.head_repository
    owner = head_repo.owner.login if head_repo and head_repo.owner else None
    if not owner or not run.head_branch:
        return []
    listed = gh.rest(
        "GET",
        f"/repos/{full_name}/pulls",
        {"head": f"{owner}:{run.head_branch}", "state": "open", "per_page": 100},
    )
    return [p for p in listed if (p.get("head") or {}).get("sha") == run.head_sha]


def update_for_workflow_run(
    gh: GitHub, event: WorkflowRunEvent, *, bot_login: str
) -> list[CommentOutcome]:
    """`workflow_run.completed`: the metric comment of every PR the run evaluated."""
    run = event.workflow_run
    if run.event not in PR_EVENTS:
        return [CommentOutcome(None, "skipped", reason=f"run {run.id} ran on {run.event}.")]
    repo = event.repository
    if repo is None:
        return [CommentOutcome(None, "skipped", reason="the delivery names no repository.")]
    info = RunInfo(
        run.id, run.head_sha, run.html_url, run.name, run.path, run.conclusion, run.event
    )
    outcomes: list[CommentOutcome] = []
    for pull in pulls_of_run(gh, repo.full_name, event):
        outcomes += update_for_pr(
            gh,
            repo.full_name,
            int(pull["number"]),
            bot_login=bot_login,
            run=info,
            default_branch=repo.default_branch,
            pull=pull,
        )
    return outcomes


__all__: list[str] = [
    "CommentOutcome",
    "RunInfo",
    "chart_data",
    "comment_body",
    "marker",
    "parse_marker",
    "publish",
    "split_markdown",
    "sticky_parts",
    "update_for_pr",
    "update_for_workflow_run",
]

"""The simulator's objects as GitHub's JSON.

Each object starts from the skeleton of its OpenAPI schema (every required
field present) and gets its meaningful fields overlaid. URLs point at the
simulator's own documented endpoints, so PyGithub can follow them.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import pygit2

from bot.simulator.gitstore import mode_name
from bot.simulator.state import (
    App,
    Artifact,
    CheckRun,
    Comment,
    CommitStatus,
    Deployment,
    Environment,
    Issue,
    Label,
    Reaction,
    Repo,
    Review,
    Team,
    WorkflowRun,
)

if TYPE_CHECKING:
    from bot.simulator.world import World

_REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")


def iso(epoch: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unsigned() -> dict[str, Any]:
    """The `verification` object of an unsigned commit or tag (the simulator signs nothing)."""
    return {
        "verified": False,
        "reason": "unsigned",
        "signature": None,
        "payload": None,
        "verified_at": None,
    }


class Renderer:
    def __init__(self, sim: World) -> None:
        self.sim = sim

    @property
    def api(self) -> str:
        return self.sim.url

    @property
    def web(self) -> str:
        return self.sim.url + "/_web"

    def _schema(self, name: str) -> dict[str, Any]:
        return self.sim.spec.skeleton(f"/components/schemas/{name}")

    @staticmethod
    def _node(kind: str, ident: int | str) -> str:
        return base64.b64encode(f"{kind}:{ident}".encode()).decode()

    # -- people ------------------------------------------------------------------------------
    def user(self, login: str) -> dict[str, Any]:
        u = self.sim.user(login)
        out = self._schema("simple-user")
        api_user = f"{self.api}/users/{u.login}"
        out.update(
            login=u.login,
            id=u.id,
            node_id=self._node("User", u.id),
            type=u.type,
            site_admin=False,
            url=api_user,
            html_url=f"{self.web}/{u.login}",
            avatar_url=f"{self.web}/avatars/{u.id}",
            gravatar_id="",
            followers_url=f"{api_user}/followers",
            following_url=f"{api_user}/following{{/other_user}}",
            gists_url=f"{api_user}/gists{{/gist_id}}",
            starred_url=f"{api_user}/starred{{/owner}}{{/repo}}",
            subscriptions_url=f"{api_user}/subscriptions",
            organizations_url=f"{api_user}/orgs",
            repos_url=f"{api_user}/repos",
            events_url=f"{api_user}/events{{/privacy}}",
            received_events_url=f"{api_user}/received_events",
        )
        return out

    def org(self, login: str) -> dict[str, Any]:
        org = self.sim.user(login, "Organization")
        out = self._schema("team-organization")
        base = f"{self.api}/orgs/{org.login}"
        out.update(
            login=org.login,
            id=org.id,
            node_id=self._node("Organization", org.id),
            url=base,
            repos_url=f"{base}/repos",
            events_url=f"{base}/events",
            hooks_url=f"{base}/hooks",
            issues_url=f"{base}/issues",
            members_url=f"{base}/members{{/member}}",
            public_members_url=f"{base}/public_members{{/member}}",
            avatar_url=f"{self.web}/avatars/{org.id}",
            description=None,
            html_url=f"{self.web}/{org.login}",
            type="Organization",
            created_at=self.sim.now_iso(),
            updated_at=self.sim.now_iso(),
        )
        return out

    # -- apps --------------------------------------------------------------------------------
    def app(self, app: App) -> dict[str, Any]:
        out = self._schema("integration")
        out.update(
            id=app.id,
            slug=app.slug,
            node_id=self._node("App", app.id),
            client_id=f"Iv1.{app.id}",
            owner=self.user(app.owner),
            name=app.name,
            description=None,
            external_url=f"{self.web}/apps/{app.slug}",
            html_url=f"{self.web}/apps/{app.slug}",
            created_at=self.sim.now_iso(),
            updated_at=self.sim.now_iso(),
            permissions={"issues": "write", "pull_requests": "write", "contents": "write"},
            events=["issue_comment", "pull_request"],
        )
        return out

    def installation(self, inst_id: int) -> dict[str, Any]:
        sim = self.sim
        inst = sim.installations[inst_id]
        app = sim.apps[sim._installation_app[inst_id]]
        account = sim.user(inst.account)
        out = self._schema("installation")
        out.update(
            id=inst.id,
            account=self.user(inst.account),
            repository_selection="all" if inst.repos is None else "selected",
            access_tokens_url=f"{self.api}/app/installations/{inst.id}/access_tokens",
            repositories_url=f"{self.api}/installation/repositories",
            html_url=f"{self.web}/settings/installations/{inst.id}",
            app_id=app.id,
            app_slug=app.slug,
            target_id=account.id,
            target_type=account.type,
            permissions=inst.permissions,
            events=inst.events,
            created_at=sim.now_iso(),
            updated_at=sim.now_iso(),
            single_file_name=None,
            suspended_by=None,
            suspended_at=None,
        )
        return out

    # -- repositories ------------------------------------------------------------------------
    def repo(self, repo: Repo, schema: str = "full-repository") -> dict[str, Any]:
        out = self._schema("repository")
        out.update(self._schema(schema))
        base = f"{self.api}/repos/{repo.full_name}"
        urls = {
            k: f"{base}/{k.removesuffix('_url')}"
            for k in out
            if k.endswith("_url") and isinstance(out[k], str) and k not in {"html_url"}
        }
        out.update(urls)
        pushed = repo.created_at
        out.update(
            id=repo.id,
            node_id=self._node("Repository", repo.id),
            name=repo.name,
            full_name=repo.full_name,
            owner=self.user(repo.owner),
            private=repo.private,
            visibility="private" if repo.private else "public",
            fork=repo.fork_of is not None,
            url=base,
            html_url=f"{self.web}/{repo.full_name}",
            clone_url=f"{self.web}/{repo.full_name}.git",
            git_url=f"git://example.test/{repo.full_name}.git",
            ssh_url=f"git@example.test:{repo.full_name}.git",
            svn_url=f"{self.web}/{repo.full_name}",
            mirror_url=None,
            homepage=None,
            description=None,
            language=None,
            default_branch=repo.default_branch,
            created_at=repo.created_at,
            updated_at=repo.created_at,
            pushed_at=pushed,
            archived=False,
            disabled=False,
            has_issues=True,
            has_projects=False,
            has_wiki=False,
            has_pages=False,
            has_discussions=False,
            has_downloads=False,
            is_template=False,
            allow_forking=True,
            web_commit_signoff_required=False,
            topics=[],
            license=None,
        )
        if "network_count" in out:
            out["network_count"] = 0
            out["subscribers_count"] = 0
        return out

    # -- issues and comments -----------------------------------------------------------------
    def _reactions(self, url: str, reactions: list[Reaction]) -> dict[str, Any]:
        out: dict[str, Any] = {k: 0 for k in _REACTIONS}
        for r in reactions:
            out[r.content] += 1
        out.update(url=url, total_count=len(reactions))
        return out

    def label(self, repo: Repo, label: Label) -> dict[str, Any]:
        out = self._schema("label")
        out.update(
            id=label.id,
            node_id=self._node("Label", label.id),
            url=f"{self.api}/repos/{repo.full_name}/labels/{label.name}",
            name=label.name,
            color=label.color,
            description=label.description,
            default=False,
        )
        return out

    def issue(self, issue: Issue) -> dict[str, Any]:
        repo = self.sim.repo(issue.repo)
        base = f"{self.api}/repos/{repo.full_name}/issues/{issue.number}"
        kind = "pull" if issue.pull else "issues"
        out = self._schema("issue")
        out.update(
            id=issue.id,
            node_id=self._node("Issue", issue.id),
            url=base,
            repository_url=f"{self.api}/repos/{repo.full_name}",
            labels_url=f"{base}/labels{{/name}}",
            comments_url=f"{base}/comments",
            events_url=f"{base}/events",
            html_url=f"{self.web}/{repo.full_name}/{kind}/{issue.number}",
            number=issue.number,
            state=issue.state,
            state_reason=issue.state_reason,
            title=issue.title,
            body=issue.body,
            user=self.user(issue.user),
            labels=[self.label(repo, repo.labels[name]) for name in issue.labels],
            assignee=None,
            assignees=[],
            milestone=None,
            locked=False,
            active_lock_reason=None,
            comments=len(issue.comment_ids),
            closed_at=issue.closed_at,
            created_at=issue.created_at,
            updated_at=issue.updated_at,
            closed_by=None,
            author_association=self.sim.association(repo, issue.user),
            reactions=self._reactions(f"{base}/reactions", issue.reactions),
        )
        if issue.pull:
            pr = f"{self.api}/repos/{repo.full_name}/pulls/{issue.number}"
            out["pull_request"] = {
                "url": pr,
                "html_url": f"{self.web}/{repo.full_name}/pull/{issue.number}",
                "diff_url": f"{self.web}/{repo.full_name}/pull/{issue.number}.diff",
                "patch_url": f"{self.web}/{repo.full_name}/pull/{issue.number}.patch",
                "merged_at": issue.pull.merged_at,
            }
        return out

    def comment(self, comment: Comment) -> dict[str, Any]:
        repo = self.sim.repo(comment.repo)
        issue = self.sim.issue(comment.repo, comment.issue_number)
        url = f"{self.api}/repos/{repo.full_name}/issues/comments/{comment.id}"
        out = self._schema("issue-comment")
        kind = "pull" if issue.pull else "issues"
        out.update(
            id=comment.id,
            node_id=self._node("IssueComment", comment.id),
            url=url,
            html_url=f"{self.web}/{repo.full_name}/{kind}/{issue.number}#issuecomment-{comment.id}",
            issue_url=f"{self.api}/repos/{repo.full_name}/issues/{issue.number}",
            body=comment.body,
            user=self.user(comment.user),
            created_at=comment.created_at,
            updated_at=comment.updated_at,
            author_association=self.sim.association(repo, comment.user),
            reactions=self._reactions(f"{url}/reactions", comment.reactions),
        )
        return out

    def reaction(self, reaction: Reaction) -> dict[str, Any]:
        out = self._schema("reaction")
        out.update(
            id=reaction.id,
            node_id=self._node("Reaction", reaction.id),
            user=self.user(reaction.user),
            content=reaction.content,
            created_at=reaction.created_at,
        )
        return out

    # -- pulls -------------------------------------------------------------------------------
    def _branch(self, full_name: str, ref: str, sha: str) -> dict[str, Any]:
        repo = self.sim.repo(full_name)
        return {
            "label": f"{repo.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repo(repo, "repository"),
        }

    def pull(self, issue: Issue) -> dict[str, Any]:
        assert issue.pull is not None
        p = issue.pull
        repo = self.sim.repo(issue.repo)
        base = f"{self.api}/repos/{repo.full_name}/pulls/{issue.number}"
        issue_url = f"{self.api}/repos/{repo.full_name}/issues/{issue.number}"
        html = f"{self.web}/{repo.full_name}/pull/{issue.number}"
        out = self._schema("pull-request")
        links = {
            "self": {"href": base},
            "html": {"href": html},
            "issue": {"href": issue_url},
            "comments": {"href": f"{issue_url}/comments"},
            "review_comments": {"href": f"{base}/comments"},
            "review_comment": {
                "href": f"{self.api}/repos/{repo.full_name}/pulls/comments{{/number}}"
            },
            "commits": {"href": f"{base}/commits"},
            "statuses": {"href": f"{self.api}/repos/{repo.full_name}/statuses/{p.head_sha}"},
        }
        out.update(
            id=issue.id,
            node_id=self._node("PullRequest", issue.id),
            url=base,
            html_url=html,
            diff_url=f"{html}.diff",
            patch_url=f"{html}.patch",
            issue_url=issue_url,
            commits_url=f"{base}/commits",
            review_comments_url=f"{base}/comments",
            review_comment_url=f"{self.api}/repos/{repo.full_name}/pulls/comments{{/number}}",
            comments_url=f"{issue_url}/comments",
            statuses_url=f"{self.api}/repos/{repo.full_name}/statuses/{p.head_sha}",
            number=issue.number,
            state=issue.state,
            locked=False,
            title=issue.title,
            body=issue.body,
            user=self.user(issue.user),
            labels=[self.label(repo, repo.labels[n]) for n in issue.labels],
            milestone=None,
            active_lock_reason=None,
            created_at=issue.created_at,
            updated_at=issue.updated_at,
            closed_at=issue.closed_at,
            merged_at=p.merged_at,
            merge_commit_sha=p.merge_commit_sha,
            assignee=None,
            assignees=[],
            requested_reviewers=[],
            requested_teams=[],
            head=self._branch(p.head_repo, p.head_ref, p.head_sha),
            base=self._branch(issue.repo, p.base_ref, p.base_sha),
            _links=links,
            author_association=self.sim.association(repo, issue.user),
            auto_merge=None,
            draft=p.draft,
            merged=p.merged,
            mergeable=None if p.merged else True,
            rebaseable=None,
            mergeable_state="clean",
            merged_by=self.user(p.merged_by) if p.merged_by else None,
            comments=len(issue.comment_ids),
            review_comments=0,
            maintainer_can_modify=False,
            commits=1,
            additions=0,
            deletions=0,
            changed_files=0,
        )
        return out

    def pull_simple(self, issue: Issue) -> dict[str, Any]:
        """A pull request as lists show it (`pull-request-simple`)."""
        full = self.pull(issue)
        skeleton = self._schema("pull-request-simple")
        return {
            k: full.get(k, v)
            for k, v in {**skeleton, **full}.items()
            if k in skeleton
            or k in {"draft", "auto_merge", "active_lock_reason", "author_association"}
        }

    def review(self, review: Review) -> dict[str, Any]:
        repo = self.sim.repo(review.repo)
        pr = f"{self.api}/repos/{repo.full_name}/pulls/{review.number}"
        html = f"{self.web}/{repo.full_name}/pull/{review.number}#pullrequestreview-{review.id}"
        out = self._schema("pull-request-review")
        out.update(
            id=review.id,
            node_id=self._node("PullRequestReview", review.id),
            user=self.user(review.user),
            body=review.body,
            state=review.state,
            commit_id=review.commit_id,
            html_url=html,
            pull_request_url=pr,
            _links={"html": {"href": html}, "pull_request": {"href": pr}},
            submitted_at=review.submitted_at,
            author_association=self.sim.association(repo, review.user),
        )
        return out

    # -- checks and statuses -----------------------------------------------------------------
    def pull_minimal(self, issue: Issue) -> dict[str, Any]:
        """The short pull request of workflow runs and check runs (`pull-request-minimal`)."""
        assert issue.pull is not None
        repo = self.sim.repo(issue.repo)
        head_repo = self.sim.repo(issue.pull.head_repo)

        def side(ref: str, sha: str, of: Repo) -> dict[str, Any]:
            url = f"{self.api}/repos/{of.full_name}"
            return {"ref": ref, "sha": sha, "repo": {"id": of.id, "url": url, "name": of.name}}

        return {
            "id": issue.id,
            "number": issue.number,
            "url": f"{self.api}/repos/{repo.full_name}/pulls/{issue.number}",
            "head": side(issue.pull.head_ref, issue.pull.head_sha, head_repo),
            "base": side(issue.pull.base_ref, issue.pull.base_sha, repo),
        }

    def check_run(self, run: CheckRun) -> dict[str, Any]:
        repo = self.sim.repo(run.repo)
        url = f"{self.api}/repos/{repo.full_name}/check-runs/{run.id}"
        out = self._schema("check-run")
        output = {"title": None, "summary": None, "text": None}
        output.update({k: v for k, v in run.output.items() if k in {"title", "summary", "text"}})
        output["annotations_count"] = len(run.annotations)
        output["annotations_url"] = f"{url}/annotations"
        # As GitHub: the open PRs of this repository whose head is the run's commit.
        pulls = [
            self.pull_minimal(i)
            for i in self.sim.issues(repo.full_name)
            if i.pull is not None
            and i.state == "open"
            and i.pull.head_sha == run.head_sha
            and i.pull.head_repo == repo.full_name
        ]
        out.update(
            id=run.id,
            node_id=self._node("CheckRun", run.id),
            head_sha=run.head_sha,
            name=run.name,
            url=url,
            html_url=f"{self.web}/{repo.full_name}/runs/{run.id}",
            details_url=run.details_url,
            status=run.status,
            conclusion=run.conclusion,
            started_at=run.started_at,
            completed_at=run.completed_at,
            external_id=run.external_id,
            check_suite={"id": run.id},
            output=output,
            app=self.sim.app_json(run.app_slug),
            pull_requests=pulls,
        )
        return out

    def check_suite_of(self, run: CheckRun) -> dict[str, Any]:
        """The simple check suite a check-run webhook carries (one suite per run here)."""
        repo = self.sim.repo(run.repo)
        data = self.check_run(run)
        return {
            "id": run.id,
            "node_id": self._node("CheckSuite", run.id),
            "head_sha": run.head_sha,
            "head_branch": None,
            "status": run.status,
            "conclusion": run.conclusion,
            "url": f"{self.api}/repos/{repo.full_name}/check-suites/{run.id}",
            "before": None,
            "after": run.head_sha,
            "pull_requests": data["pull_requests"],
            "app": data["app"],
            "repository": self.repo(repo, "minimal-repository"),
            "created_at": run.started_at,
            "updated_at": run.completed_at or run.started_at,
        }

    def deployment(self, dep: Deployment) -> dict[str, Any]:
        repo = self.sim.repo(dep.repo)
        url = f"{self.api}/repos/{repo.full_name}/deployments/{dep.id}"
        updated = dep.statuses[-1]["created_at"] if dep.statuses else dep.created_at
        return {
            "url": url,
            "id": dep.id,
            "node_id": self._node("Deployment", dep.id),
            "sha": dep.sha,
            "ref": dep.ref,
            "task": dep.task,
            "payload": dep.payload,
            "original_environment": dep.environment,
            "environment": dep.environment,
            "description": dep.description,
            "creator": self.user(dep.creator),
            "created_at": dep.created_at,
            "updated_at": updated,
            "statuses_url": f"{url}/statuses",
            "repository_url": f"{self.api}/repos/{repo.full_name}",
            "transient_environment": dep.transient_environment,
            "production_environment": dep.production_environment,
        }

    def deployment_status(self, dep: Deployment, status: dict[str, Any]) -> dict[str, Any]:
        repo = self.sim.repo(dep.repo)
        url = f"{self.api}/repos/{repo.full_name}/deployments/{dep.id}"
        return {
            "url": f"{url}/statuses/{status['id']}",
            "id": status["id"],
            "node_id": self._node("DeploymentStatus", status["id"]),
            "state": status["state"],
            "creator": self.user(status["creator"]),
            "description": status.get("description") or "",
            "environment": dep.environment,
            "target_url": status.get("log_url") or "",
            "log_url": status.get("log_url") or "",
            "environment_url": status.get("environment_url") or "",
            "created_at": status["created_at"],
            "updated_at": status["created_at"],
            "deployment_url": url,
            "repository_url": f"{self.api}/repos/{repo.full_name}",
        }

    def environment(self, env: Environment) -> dict[str, Any]:
        repo = self.sim.repo(env.repo)
        return {
            "id": env.id,
            "node_id": self._node("Environment", env.id),
            "name": env.name,
            "url": f"{self.api}/repos/{repo.full_name}/environments/{env.name}",
            "html_url": f"{self.web}/{repo.full_name}/deployments/{env.name}",
            "created_at": env.created_at,
            "updated_at": env.created_at,
            # Custom (App) rules are listed by their own endpoint, not here.
            "protection_rules": [],
            "deployment_branch_policy": None,
        }

    def annotation(self, note: dict[str, Any]) -> dict[str, Any]:
        return {
            "path": note["path"],
            "start_line": note["start_line"],
            "end_line": note["end_line"],
            "start_column": note.get("start_column"),
            "end_column": note.get("end_column"),
            "annotation_level": note.get("annotation_level"),
            "title": note.get("title"),
            "message": note.get("message"),
            "raw_details": note.get("raw_details"),
            "blob_href": "",
        }

    def status(self, status: CommitStatus) -> dict[str, Any]:
        repo = self.sim.repo(status.repo)
        out = self._schema("status")
        out.update(
            id=status.id,
            node_id=self._node("StatusContext", status.id),
            url=f"{self.api}/repos/{repo.full_name}/statuses/{status.sha}",
            avatar_url=None,
            state=status.state,
            description=status.description,
            target_url=status.target_url,
            context=status.context,
            created_at=status.created_at,
            updated_at=status.created_at,
            creator=self.user(status.creator),
        )
        return out

    # -- actions -----------------------------------------------------------------------------
    def workflow_run(self, run: WorkflowRun) -> dict[str, Any]:
        repo = self.sim.repo(run.repo)
        head_repo = self.sim.repo(run.head_repo)
        base = f"{self.api}/repos/{repo.full_name}/actions/runs/{run.id}"
        out = self._schema("workflow-run")
        head_commit = None
        try:
            commit = repo.store.get(run.head_sha)
            head_commit = {
                "id": run.head_sha,
                "tree_id": str(commit.tree_id),
                "message": commit.message,
                "timestamp": iso(commit.commit_time),
                "author": {"name": commit.author.name, "email": commit.author.email},
                "committer": {"name": commit.committer.name, "email": commit.committer.email},
            }
        except Exception:
            head_commit = None
        # GitHub leaves `pull_requests` empty for runs whose head is in a fork.
        pulls = [
            self.pull_minimal(self.sim.issue(run.repo, number))
            for number in ([] if run.head_repo != run.repo else run.pull_numbers)
        ]
        out.update(
            id=run.id,
            node_id=self._node("WorkflowRun", run.id),
            name=run.name,
            head_branch=run.head_branch,
            head_sha=run.head_sha,
            path=run.path,
            display_title=run.name,
            run_number=run.run_number,
            run_attempt=1,
            event=run.event,
            status=run.status,
            conclusion=run.conclusion,
            workflow_id=run.workflow_id,
            url=base,
            html_url=f"{self.web}/{repo.full_name}/actions/runs/{run.id}",
            pull_requests=pulls,
            created_at=run.created_at,
            updated_at=run.updated_at,
            run_started_at=run.created_at,
            actor=self.user(run.actor),
            triggering_actor=self.user(run.actor),
            jobs_url=f"{base}/jobs",
            logs_url=f"{base}/logs",
            check_suite_url=f"{self.api}/repos/{repo.full_name}/check-suites/{run.id}",
            artifacts_url=f"{base}/artifacts",
            cancel_url=f"{base}/cancel",
            rerun_url=f"{base}/rerun",
            workflow_url=f"{self.api}/repos/{repo.full_name}/actions/workflows/{run.workflow_id}",
            head_commit=head_commit,
            repository=self.repo(repo, "minimal-repository"),
            head_repository=self.repo(head_repo, "minimal-repository"),
        )
        return out

    def artifact(self, art: Artifact) -> dict[str, Any]:
        repo = self.sim.repo(art.repo)
        run = self.sim.workflow_runs[art.run_id]
        url = f"{self.api}/repos/{repo.full_name}/actions/artifacts/{art.id}"
        out = self._schema("artifact")
        out.update(
            id=art.id,
            node_id=self._node("Artifact", art.id),
            name=art.name,
            size_in_bytes=len(art.data),
            url=url,
            archive_download_url=f"{url}/zip",
            expired=art.expired,
            created_at=art.created_at,
            expires_at=art.expires_at,
            updated_at=art.created_at,
            workflow_run={
                "id": run.id,
                "repository_id": repo.id,
                "head_repository_id": self.sim.repo(run.head_repo).id,
                "head_branch": run.head_branch,
                "head_sha": run.head_sha,
            },
        )
        return out

    # -- teams -------------------------------------------------------------------------------
    def team(self, team: Team, schema: str = "team") -> dict[str, Any]:
        url = f"{self.api}/orgs/{team.org}/teams/{team.slug}"
        out = self._schema(schema)
        out.update(
            id=team.id,
            node_id=self._node("Team", team.id),
            url=url,
            html_url=f"{self.web}/orgs/{team.org}/teams/{team.slug}",
            name=team.name,
            slug=team.slug,
            description=None,
            privacy="closed",
            notification_setting="notifications_enabled",
            permission="pull",
            members_url=f"{url}/members{{/member}}",
            repositories_url=f"{url}/repos",
            parent=None,
        )
        if schema == "team-full":
            out.update(
                members_count=len(team.members),
                repos_count=0,
                created_at=self.sim.now_iso(),
                updated_at=self.sim.now_iso(),
                organization=self.sim.org_json(team.org),
            )
        return out

    # -- git data ----------------------------------------------------------------------------
    def git_commit(self, repo: Repo, sha: str) -> dict[str, Any]:
        commit = repo.store.get(sha, pygit2.GIT_OBJECT_COMMIT)
        base = f"{self.api}/repos/{repo.full_name}/git"
        out = self._schema("git-commit")

        def person(sig: pygit2.Signature) -> dict[str, Any]:
            return {"name": sig.name, "email": sig.email, "date": iso(sig.time)}

        out.update(
            sha=sha,
            node_id=self._node("Commit", sha),
            url=f"{base}/commits/{sha}",
            html_url=f"{self.web}/{repo.full_name}/commit/{sha}",
            author=person(commit.author),
            committer=person(commit.committer),
            message=commit.message,
            tree={"sha": str(commit.tree_id), "url": f"{base}/trees/{commit.tree_id}"},
            parents=[
                {
                    "sha": str(p),
                    "url": f"{base}/commits/{p}",
                    "html_url": f"{self.web}/{repo.full_name}/commit/{p}",
                }
                for p in commit.parent_ids
            ],
            verification=_unsigned(),
        )
        return out

    def commit(self, repo: Repo, sha: str) -> dict[str, Any]:
        """The `commit` schema of GET /repos/{owner}/{repo}/commits/{ref}."""
        git = self.git_commit(repo, sha)
        out = self._schema("commit")
        author = self.sim.user_for_email(git["author"]["email"])
        committer = self.sim.user_for_email(git["committer"]["email"])
        out.update(
            url=f"{self.api}/repos/{repo.full_name}/commits/{sha}",
            sha=sha,
            node_id=git["node_id"],
            html_url=git["html_url"],
            comments_url=f"{self.api}/repos/{repo.full_name}/commits/{sha}/comments",
            commit={
                "url": git["url"],
                "author": git["author"],
                "committer": git["committer"],
                "message": git["message"],
                "comment_count": 0,
                "tree": git["tree"],
                "verification": git["verification"],
            },
            author=self.user(author) if author else None,
            committer=self.user(committer) if committer else None,
            parents=[
                {
                    "sha": p["sha"],
                    "url": f"{self.api}/repos/{repo.full_name}/commits/{p['sha']}",
                    "html_url": p["html_url"],
                }
                for p in git["parents"]
            ],
            files=[],
            stats={"additions": 0, "deletions": 0, "total": 0},
        )
        return out

    def git_ref(self, repo: Repo, name: str, sha: str) -> dict[str, Any]:
        """`name` is the full ref (refs/heads/main)."""
        obj = repo.store.get(sha)
        kind = {pygit2.GIT_OBJECT_TAG: "tag", pygit2.GIT_OBJECT_TREE: "tree"}.get(
            obj.type, "commit"
        )
        base = f"{self.api}/repos/{repo.full_name}/git"
        return {
            "ref": name,
            "node_id": self._node("Ref", f"{repo.id}:{name}"),
            "url": f"{base}/{name}",
            "object": {"type": kind, "sha": sha, "url": f"{base}/{kind}s/{sha}"},
        }

    def git_tag(self, repo: Repo, sha: str) -> dict[str, Any]:
        tag = repo.store.get(sha, pygit2.GIT_OBJECT_TAG)
        base = f"{self.api}/repos/{repo.full_name}/git"
        target = repo.store.get(str(tag.target))
        kind = {pygit2.GIT_OBJECT_TAG: "tag", pygit2.GIT_OBJECT_TREE: "tree"}.get(
            target.type, "commit"
        )
        out = self._schema("git-tag")
        out.update(
            sha=sha,
            node_id=self._node("Tag", sha),
            url=f"{base}/tags/{sha}",
            tag=tag.name,
            message=tag.message,
            tagger={
                "name": tag.tagger.name,
                "email": tag.tagger.email,
                "date": iso(tag.tagger.time),
            },
            object={"type": kind, "sha": str(tag.target), "url": f"{base}/{kind}s/{tag.target}"},
            verification=_unsigned(),
        )
        return out

    def git_tree(self, repo: Repo, sha: str, recursive: bool) -> dict[str, Any]:
        tree = repo.store.get(sha, pygit2.GIT_OBJECT_TREE)
        base = f"{self.api}/repos/{repo.full_name}/git"
        entries: list[dict[str, Any]] = []

        def walk(t: pygit2.Tree, prefix: str) -> None:
            for e in t:
                kind = {
                    pygit2.GIT_FILEMODE_TREE: "tree",
                    pygit2.GIT_FILEMODE_COMMIT: "commit",
                }.get(e.filemode, "blob")
                item = {
                    "path": prefix + e.name,
                    "mode": mode_name(e.filemode),
                    "type": kind,
                    "sha": str(e.id),
                    "url": f"{base}/{kind}s/{e.id}",
                }
                if kind == "blob":
                    item["size"] = repo.store.repo.get(e.id).size
                entries.append(item)
                if kind == "tree" and recursive:
                    walk(repo.store.repo.get(e.id), prefix + e.name + "/")

        walk(tree, "")
        return {"sha": sha, "url": f"{base}/trees/{sha}", "tree": entries, "truncated": False}

    def content(self, repo: Repo, path: str, obj: Any, ref: str) -> Any:
        base = f"{self.api}/repos/{repo.full_name}"

        def item(p: str, o: Any, kind: str) -> dict[str, Any]:
            api = f"{base}/contents/{p}?ref={ref}"
            git = f"{base}/git/{'trees' if kind == 'dir' else 'blobs'}/{o.id}"
            html = f"{self.web}/{repo.full_name}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{p}"
            return {
                "type": kind,
                "name": p.rsplit("/", 1)[-1],
                "path": p,
                "sha": str(o.id),
                "size": o.size if kind == "file" else 0,
                "url": api,
                "git_url": git,
                "html_url": html,
                "download_url": f"{self.web}/raw/{repo.full_name}/{ref}/{p}"
                if kind == "file"
                else None,
                "_links": {"self": api, "git": git, "html": html},
            }

        if obj.type == pygit2.GIT_OBJECT_TREE:
            out = []
            for e in obj:
                child = repo.store.repo.get(e.id)
                kind = "dir" if child.type == pygit2.GIT_OBJECT_TREE else "file"
                out.append(item(f"{path.strip('/')}/{e.name}".lstrip("/"), child, kind))
            return out
        out = item(path.strip("/"), obj, "file")
        out.update(encoding="base64", content=base64.encodebytes(obj.data).decode())
        return out

"""Repositories, forks, branches and pushes."""

from __future__ import annotations

from pathlib import Path

from bot.simulator.bare_repo import BareRepo, Person
from bot.simulator.control.people import PeopleControl
from bot.simulator.state import Repo


class ReposControl(PeopleControl):
    def create_repo(
        self,
        full_name: str,
        files: dict[str, bytes | str] | None = None,
        *,
        default_branch: str = "main",
        private: bool = False,
        message: str = "Initial commit",
    ) -> Repo:
        owner, name = full_name.split("/")
        self.user(owner)
        with self.lock:
            store = BareRepo(self.root / "repos" / owner / f"{name}.git")
            repo = Repo(self.next_id(), owner, name, store, default_branch, private)
            repo.created_at = self.now_iso()
            self._repos[full_name.lower()] = repo
            self._next_number[repo.full_name] = 1
            store.commit_files(
                dict(files or {"README.md": f"# {name}\n"}),
                message,
                branch=default_branch,
                author=self.person(owner),
            )
            return repo

    def fork(self, full_name: str, owner: str) -> Repo:
        parent = self.repo(full_name)
        with self.lock:
            self.user(owner)
            store = BareRepo(self.root / "repos" / owner / f"{parent.name}.git")
            fork = Repo(self.next_id(), owner, parent.name, store, parent.default_branch)
            fork.fork_of = parent.full_name
            fork.created_at = self.now_iso()
            self._repos[fork.full_name.lower()] = fork
            self._next_number[fork.full_name] = 1
            for ref, _ in parent.store.refs("heads/"):
                store.fetch_from(parent.store, ref.removeprefix("refs/"), ref.removeprefix("refs/"))
            return fork

    def push(
        self,
        full_name: str,
        branch: str,
        files: dict[str, bytes | str | None],
        *,
        message: str = "Update",
        author: str | None = None,
        pusher: str | None = None,
        author_name: str | None = None,
        author_email: str | None = None,
    ) -> str:
        """Commit files on a branch (a new one starts at the default branch) and push it.

        `author` is a login: it writes the commit and pushes it unless `pusher` is given.
        `author_name` / `author_email` set the commit's author field to anything, as any
        git client can (claiming to be `mlbot[bot]`, say): GitHub checks none of it, and
        the commit is not verified. The push is announced with the `push` webhook.
        """
        repo = self.repo(full_name)
        login = author or repo.owner
        pusher = pusher or login
        person = self.person(login)
        if author_name is not None or author_email is not None:
            person = Person(author_name or person.name, author_email or person.email, person.when)
        with self.lock:
            before = repo.store.ref_sha(f"heads/{branch}")
            if before is None:
                start = repo.store.ref_sha(f"heads/{repo.default_branch}")
                if start:
                    repo.store.set_ref(f"heads/{branch}", start, force=True)
            sha = repo.store.commit_files(files, message, branch=branch, author=person)
            self._announce_push(repo, f"refs/heads/{branch}", before, sha, pusher)
            self._branch_moved(repo, branch, sha, pusher)
            return sha

    def push_git(
        self,
        full_name: str,
        source: Path,
        branch: str,
        *,
        pusher: str,
        source_branch: str | None = None,
        force: bool = False,
    ) -> str:
        """`git push` from a local repository at `source`: its commits arrive as they are.

        Whatever the commits say of their authors, they are unverified; a push that is
        not a fast-forward is refused unless `force`, as GitHub refuses it.
        """
        repo = self.repo(full_name)
        with self.lock:
            before = repo.store.ref_sha(f"heads/{branch}")
            incoming = "sim/incoming"
            repo.store.fetch_from(Path(source), f"heads/{source_branch or branch}", incoming)
            sha = repo.store.ref_sha(incoming)
            repo.store.delete_ref(incoming)
            assert sha is not None
            if before is not None and not force and not repo.store.is_ancestor(before, sha):
                raise ValueError(f"non-fast-forward push to {branch} refused")
            repo.store.set_ref(f"heads/{branch}", sha, force=True)
            self._announce_push(repo, f"refs/heads/{branch}", before, sha, pusher)
            self._branch_moved(repo, branch, sha, pusher)
            return sha

    def create_branch(self, full_name: str, branch: str, from_ref: str | None = None) -> str:
        repo = self.repo(full_name)
        sha = repo.store.resolve(from_ref or repo.default_branch, repo.default_branch)
        if sha is None:
            raise KeyError(from_ref)
        repo.store.create_ref(f"heads/{branch}", sha)
        return sha

    def _branch_moved(self, repo: Repo, branch: str, sha: str, user: str) -> None:
        """Called whenever a branch of `repo` now points at `sha` (pull requests follow it)."""

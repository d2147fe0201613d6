"""Finding a model artifact by URI, proving it is the recorded one, and loading it.

A registered version names its artifact by URI: a path relative to the
repository, a `file://` URI, or an MLflow URI (`runs:/<run>/<path>`,
`mlflow-artifacts:/...`, `models:/...`). Whatever the scheme, the bytes must
hash to the sha256 in the version record before anything unpickles them:
a missing or altered production artifact is an error, never a silent pass.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from bot.errors import InputError

MLFLOW_SCHEMES = ("runs", "mlflow-artifacts", "models")


def file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def resolve(uri: str, root: Path, workdir: Path | None = None) -> Path:
    """A local path holding the artifact named by `uri` (downloaded if remote)."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme in MLFLOW_SCHEMES:
        from bot.ml import tracking

        tracking.configure(root)
        import mlflow
        from mlflow.exceptions import MlflowException

        dest = workdir or Path(tempfile.mkdtemp(prefix="mlbot-artifact-"))
        try:
            return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(dest)))
        except (MlflowException, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"artifact {uri} cannot be fetched from MLflow: {first}") from None
    if parsed.scheme and len(parsed.scheme) > 1:
        raise InputError(f"artifact {uri}: the '{parsed.scheme}' scheme is not supported here.")
    path = Path(uri)
    return path if path.is_absolute() else root / path


def fetch_verified(
    uri: str, sha256: str | None, root: Path, what: str, workdir: Path | None = None
) -> Path:
    """The artifact's local path, after checking its bytes against the recorded digest."""
    if sha256 is None:
        # A version GTO registered whose file is not in git: nothing to verify it against.
        raise InputError(
            f"{what} artifact {uri} has no recorded digest (its record is derived from a GTO "
            "tag), so it cannot be verified; register a version with mlbot to compare with it."
        )
    path = resolve(uri, root, workdir)
    if not path.is_file():
        raise InputError(f"{what} artifact {uri} is missing (looked for {path}).")
    actual, _ = file_digest(path)
    if actual != sha256:
        raise InputError(
            f"{what} artifact {uri} does not match its recorded digest "
            f"(sha256 {actual[:12]}…, recorded {sha256[:12]}…): it was altered or replaced."
        )
    return path


def load_model(path: Path, what: str) -> object:
    """Unpickle a verified artifact (pickle and joblib files)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(2)
        if head[:1] != b"\x80":
            raise InputError(f"{what} artifact {path} is not a pickled model.")
        import joblib

        # The digest was checked against the registry record (or candidate.json) first.
        model = joblib.load(path)
    except InputError:
        raise
    except Exception as exc:  # a corrupted pickle raises almost anything
        raise InputError(
            f"{what} artifact {path} cannot be loaded: {exc}".splitlines()[0]
        ) from None
    if not hasattr(model, "predict"):
        raise InputError(f"{what} artifact {path} holds a {type(model).__name__}, not a model.")
    return model

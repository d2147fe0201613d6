import datetime as dt

import pytest

from bot.errors import InputError
from bot.ml.lineage import dvc_md5
from bot.ml.reference import cache_object, live_reference
from bot.registry.schema import Artifact, Lineage, VersionRecord


def record(digest: str | None) -> VersionRecord:
    return VersionRecord(
        model="m",
        version="v1.0.0",
        artifact=Artifact(uri="model.pkl", sha256="0" * 64, size=1),
        lineage=Lineage(data={"data/train.csv": digest} if digest else {}),
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
        created_by="t",
    )


def test_working_copy_then_dvc_cache_then_a_clear_error(tmp_path):
    data = tmp_path / "data" / "train.csv"
    data.parent.mkdir()
    data.write_text("a,b\n1,2\n")
    digest = dvc_md5(data)
    assert live_reference(tmp_path, "data/train.csv", record(digest)).path == data

    # Retraining replaced the working copy: the recorded bytes come from DVC's cache.
    cached = cache_object(tmp_path, digest)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(data.read_bytes())
    data.write_text("a,b\n9,9\n")
    ref = live_reference(tmp_path, "data/train.csv", record(digest))
    assert ref.path == cached and "DVC cache" in ref.note

    cached.unlink()
    with pytest.raises(InputError, match="dvc pull"):
        live_reference(tmp_path, "data/train.csv", record(digest))
    with pytest.raises(InputError, match="records no digest"):
        live_reference(tmp_path, "data/train.csv", record(None))

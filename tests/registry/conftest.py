import pytest

from tests.gitrepo import make_repo


@pytest.fixture
def repo(tmp_path, capsys):
    return make_repo(tmp_path / "repo", capsys)

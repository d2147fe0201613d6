import json
import subprocess
import sys

HEAVY = ["mlflow", "evidently", "dvc", "sklearn", "pandas", "pandera", "ruamel", "fastapi", "rich"]


def _imported_after(args: list[str]) -> set[str]:
    code = (
        "import sys, json\n"
        "from bot.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stderr.strip().splitlines()[-1]))


def test_help_and_version_do_not_load_heavy_libraries():
    for args in (["--help"], ["--version"]):
        loaded = _imported_after(args)
        heavy = sorted(m for m in HEAVY if m in loaded)
        assert heavy == [], f"mlbot {' '.join(args)} imported {heavy}"


def test_help_lists_every_command():
    from bot.cli import COMMANDS

    out = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for name in COMMANDS:
        assert name in out


def test_version_prints_the_package_version():
    from bot import __version__

    out = subprocess.run(
        [sys.executable, "-m", "bot", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"mlbot {__version__}"


def test_no_command_is_a_usage_error_that_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "bot"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "registry" in out.stderr and out.stdout == ""

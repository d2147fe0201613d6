#!/usr/bin/env bash
# Steps of the `setup` action. Inputs arrive only through the environment.
#   setup.sh cache-key   outputs the pip cache directory and a key over mlbot's pyproject.toml
#   setup.sh install     installs mlbot (this action's own checkout) with MLBOT_EXTRAS
set -euo pipefail
# In the root action the last step writes the summaries under the overall status (summary.sh).
[[ -z "${MLBOT_SUMMARY_DIR:-}" ]] || export GITHUB_STEP_SUMMARY="$MLBOT_SUMMARY_DIR/setup.md"

# The action lives in <mlbot>/actions/setup, so the source it was fetched at is two levels up
# (the root action passes its own path): installing from there installs exactly the ref the
# caller pinned.
source_dir="$(cd "${MLBOT_SOURCE:-$GITHUB_ACTION_PATH/../..}" && pwd)"

extras="${MLBOT_EXTRAS// /}"
if [[ -n "$extras" && ! "$extras" =~ ^[a-z][a-z0-9_-]*(,[a-z][a-z0-9_-]*)*$ ]]; then
  echo "::error title=mlbot setup::extras must be comma-separated names, got: ${MLBOT_EXTRAS}"
  exit 2
fi
# "ml, sigstore" -> "[ml,sigstore]"; empty -> "".
spec="${extras:+[$extras]}"

case "${1:-}" in
  cache-key)
    digest="$(sha256sum "$source_dir/pyproject.toml" | cut -c1-16)"
    os="${RUNNER_OS:-$(uname -s)}"
    prefix="mlbot-pip-${os}-py${MLBOT_PYTHON_VERSION}-${extras//,/+}-"
    {
      echo "pip-cache-dir=$(python -m pip cache dir 2>/dev/null || echo "$HOME/.cache/pip")"
      echo "key=${prefix}${digest}"
      echo "restore-key=${prefix}"
    } >>"$GITHUB_OUTPUT"
    ;;
  install)
    python -m pip install --disable-pip-version-check --quiet "${source_dir}${spec}"
    version="$(mlbot --version)"
    {
      echo "mlbot-version=${version#mlbot }"
      echo "python=$(command -v python)"
    } >>"$GITHUB_OUTPUT"
    {
      echo "### ✅ mlbot setup: installed"
      echo
      echo "Installed \`${version}\` with extras \`${spec:-none}\` on $(python --version)."
    } >>"$GITHUB_STEP_SUMMARY"
    ;;
  *)
    echo "usage: setup.sh cache-key|install" >&2
    exit 2
    ;;
esac

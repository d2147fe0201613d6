#!/usr/bin/env bash
# The `train` action's step. Inputs arrive only through the environment.
set -euo pipefail
# In the root action the last step writes the summaries under the overall status (summary.sh).
[[ -z "${MLBOT_SUMMARY_DIR:-}" ]] || export GITHUB_STEP_SUMMARY="$MLBOT_SUMMARY_DIR/train.md"

args=(train --repo "$MLBOT_REPO")
[[ -n "${MLBOT_MODEL:-}" ]] && args+=("$MLBOT_MODEL")
log="$RUNNER_TEMP/mlbot-train.log"
# The summary shows paths as a reader of the repository knows them, never the runner's.
repo_paths() {
  sed -e "s#$(realpath "$MLBOT_REPO")/##g" -e "s#${GITHUB_WORKSPACE:-/nonexistent}/##g" \
    -e "s#$RUNNER_TEMP/#\$RUNNER_TEMP/#g"
}
# The last N lines of the log, collapsed, so a long log never pushes the status off screen.
log_details() {
  local lines total
  lines="$(grep -v '^\s*$' "$log" | tail -n "$1" | cut -c1-300 | repo_paths | sed "s/\`\`\`/'''/g")"
  total="$(grep -cv '^\s*$' "$log" || true)"
  echo "<details><summary>Log (last $1 of $total lines)</summary>"
  echo
  echo '```text'
  echo "$lines"
  echo '```'
  echo
  echo "</details>"
}
rc=0
mlbot "${args[@]}" 2>&1 | tee "$log" || rc=$?
if [[ "$rc" != 0 ]]; then
  echo "::error title=mlbot train::training failed (exit $rc): $(grep 'mlbot: error' "$log" | head -n 1 | cut -c1-300)"
  {
    echo "### ❌ mlbot train: failed (exit $rc)"
    echo
    echo "$(grep 'mlbot: error' "$log" | head -n 1 | cut -c1-300 | repo_paths)"
    echo
    log_details 30
  } >>"$GITHUB_STEP_SUMMARY"
  exit "$rc"
fi

candidate="$MLBOT_REPO/candidate.json"
# Every file the bot reads goes, flat, into one folder that becomes the run's artifact.
mkdir -p "$RUNNER_TEMP/mlbot-evidence"
cp "$candidate" "$RUNNER_TEMP/mlbot-evidence/candidate.json"
read_json() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d = (d or {}).get(k)
print("" if d is None else d)' "$candidate" "$1"; }
model="$(read_json model)"
artifact="$MLBOT_REPO/$(read_json artifact.path)"
sha256="$(read_json artifact.sha256)"
{
  echo "candidate=$candidate"
  echo "artifact=$artifact"
  echo "artifact-path=$(read_json artifact.path)"
  echo "sha256=$sha256"
  echo "mlflow-run-id=$(read_json lineage.mlflow_run_id)"
  echo "artifact-name=${MLBOT_ARTIFACT_NAME:-mlbot-candidate-$model}"
} >>"$GITHUB_OUTPUT"
{
  echo "### ✅ mlbot train: \`$model\` trained"
  echo
  echo "Artifact \`$(read_json artifact.path)\`, sha256 \`$sha256\`."
  echo
  log_details 5
} >>"$GITHUB_STEP_SUMMARY"

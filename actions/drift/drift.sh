#!/usr/bin/env bash
# The `drift` action's step. Inputs (and the token) arrive only through the environment.
set -euo pipefail

dir="$RUNNER_TEMP/mlbot-drift"
mkdir -p "$dir"
args=(drift --repo "$MLBOT_REPO" --current "$MLBOT_CURRENT" --out-dir "$dir")
# Evidently's report is the artifact, not the verdict: built only when asked for.
[[ "${MLBOT_REPORT:-true}" == true ]] && args+=(--report "$dir/drift.html")
[[ -n "${MLBOT_MODEL:-}" ]] && args+=(--model "$MLBOT_MODEL")
[[ -n "${MLBOT_REFERENCE:-}" ]] && args+=(--reference "$MLBOT_REFERENCE")
if [[ "${MLBOT_OPEN_ISSUE:-false}" == true ]]; then
  # `--open-issue` (the drift issue through the GitHub adapter) comes with the chat-ops work;
  # until the installed mlbot has it, say so rather than fail the scheduled check.
  if mlbot drift --help | grep -q -- '--open-issue'; then
    args+=(--open-issue)
  else
    echo "::warning title=mlbot drift::this mlbot cannot open drift issues yet (no --open-issue); the report is in the artifact."
  fi
fi

rc=0
mlbot "${args[@]}" || rc=$?
echo "exit-code=$rc" >>"$GITHUB_OUTPUT"
case "$rc" in
  0) drifted=false ;;
  1) drifted=true ;;
  *) echo "::error title=mlbot drift::mlbot drift could not compare the data (exit $rc); see the log above."
     exit "$rc" ;;
esac
{
  echo "drifted=$drifted"
  echo "drift-json=$dir/drift.json"
} >>"$GITHUB_OUTPUT"
[[ -f "$dir/drift.html" ]] && echo "report=$dir/drift.html" >>"$GITHUB_OUTPUT"
# drift.md is the drift issue's body: the same words in the summary and in the issue.
[[ -f "$dir/drift.md" ]] && cat "$dir/drift.md" >>"$GITHUB_STEP_SUMMARY"
if [[ "$drifted" == true ]]; then
  echo "::warning title=mlbot drift::data drift detected; see the step summary and the report artifact."
  [[ "${MLBOT_FAIL_ON_DRIFT:-false}" == true ]] && exit 1
fi
exit 0

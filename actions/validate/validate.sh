#!/usr/bin/env bash
# The `validate` action's step. Inputs arrive only through the environment.
set -euo pipefail
# In the root action the last step writes the summaries under the overall status (summary.sh).
[[ -z "${MLBOT_SUMMARY_DIR:-}" ]] || export GITHUB_STEP_SUMMARY="$MLBOT_SUMMARY_DIR/validate.md"

args=(validate --repo "$MLBOT_REPO")
[[ -n "${MLBOT_MODEL:-}" ]] && args+=(--model "$MLBOT_MODEL")
[[ -n "${MLBOT_CONTRACT:-}" ]] && args+=(--contract "$MLBOT_CONTRACT")
[[ -n "${MLBOT_DATA:-}" ]] && args+=(-- "$MLBOT_DATA")

# `mlbot validate` writes the ::error annotations and the step summary itself when it sees CI.
rc=0
mlbot "${args[@]}" || rc=$?
case "$rc" in
  0) result=passed ;;
  1) result=failed ;;
  *) result=error
     echo "::error title=mlbot validate::mlbot validate could not run (exit $rc); see the log above." ;;
esac
{
  echo "result=$result"
  echo "exit-code=$rc"
} >>"$GITHUB_OUTPUT"
exit "$rc"

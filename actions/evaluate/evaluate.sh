#!/usr/bin/env bash
# Steps of the `evaluate` action. Inputs arrive only through the environment.
#   evaluate.sh evaluate   runs `mlbot evaluate`, records its outcome, never fails by itself
#   evaluate.sh gate       fails the job when the evaluation did (after the upload)
set -euo pipefail
# In the root action the last step writes the summaries under the overall status (summary.sh).
[[ -z "${MLBOT_SUMMARY_DIR:-}" ]] || export GITHUB_STEP_SUMMARY="$MLBOT_SUMMARY_DIR/evaluate.md"

case "${1:-}" in
  evaluate)
    # Every file the bot reads goes, flat, into one folder that becomes the run's artifact.
    evidence="$RUNNER_TEMP/mlbot-evidence"
    mkdir -p "$evidence"
    evaluation="$evidence/evaluation.json"
    report="$evidence/evaluation.md"
    run_url="${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}"
    # mlbot evaluate writes the report into the step summary itself.
    args=(evaluate --repo "$MLBOT_REPO" --out "$evaluation" --report "$report" --run-url "$run_url")
    [[ -n "${MLBOT_MODEL:-}" ]] && args+=("$MLBOT_MODEL")
    rc=0
    mlbot "${args[@]}" || rc=$?
    case "$rc" in
      0) verdict=pass ;;
      1) verdict=fail ;;
      *) verdict=error ;;
    esac
    echo "verdict=$verdict" >>"$GITHUB_OUTPUT"
    echo "exit-code=$rc" >>"$GITHUB_OUTPUT"
    if [[ ! -f "$evaluation" ]]; then
      echo "::error title=mlbot evaluate::mlbot evaluate wrote no evaluation.json (exit $rc); see the log above."
      exit 0
    fi
    model="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("model", ""))' "$evaluation")"
    {
      echo "evaluation=$evaluation"
      echo "evidence-dir=$evidence"
      echo "artifact-name=${MLBOT_ARTIFACT_NAME:-mlbot-evaluation-$model}"
    } >>"$GITHUB_OUTPUT"
    [[ -f "$report" ]] && echo "report=$report" >>"$GITHUB_OUTPUT"
    ;;
  gate)
    case "$MLBOT_EXIT_CODE" in
      0) ;;
      1) if [[ "$MLBOT_FAIL_ON_GATE" == true ]]; then
           echo "::error title=mlbot evaluate::a policy gate failed; the step summary says which."
           exit 1
         fi
         echo "::warning title=mlbot evaluate::a policy gate failed (fail-on-gate is off)." ;;
      *) echo "::error title=mlbot evaluate::mlbot evaluate could not run (exit $MLBOT_EXIT_CODE)."
         exit "$MLBOT_EXIT_CODE" ;;
    esac
    ;;
  *) echo "usage: evaluate.sh evaluate|gate" >&2; exit 2 ;;
esac

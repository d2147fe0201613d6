#!/usr/bin/env bash
# Steps of the `scan` action. Inputs arrive only through the environment.
#   scan.sh trivy   scans to JSON, converts that report to SARIF (one scan, two formats)
#   scan.sh gate    gates the JSON report with `mlbot scan-gate` (MLBOT_DEFER=true: record the
#                   outcome and let a later `scan.sh fail-if` step fail the job)
#   scan.sh fail-if fails when MLBOT_EXIT_CODE is not 0
set -euo pipefail
# In the root action the last step writes the summaries under the overall status (summary.sh).
[[ -z "${MLBOT_SUMMARY_DIR:-}" ]] || export GITHUB_STEP_SUMMARY="$MLBOT_SUMMARY_DIR/scan.md"

dir="$RUNNER_TEMP/mlbot-scan"
# Files the bot reads go, flat, into one folder that becomes the run's artifact.
evidence="$RUNNER_TEMP/mlbot-evidence"
mkdir -p "$dir" "$evidence"

case "${1:-}" in
  trivy)
    case "$MLBOT_SCAN_TYPE" in
      fs | image | config) ;;
      *) echo "::error title=mlbot scan::scan-type must be fs, image or config, got: $MLBOT_SCAN_TYPE"
         exit 2 ;;
    esac
    args=("$MLBOT_SCAN_TYPE" --format json --output "$dir/report.json" --exit-code 0)
    [[ "$MLBOT_SCAN_TYPE" != config ]] && args+=(--scanners "$MLBOT_SCANNERS")
    [[ -n "${MLBOT_SKIP_DIRS:-}" ]] && args+=(--skip-dirs "$MLBOT_SKIP_DIRS")
    trivy "${args[@]}" -- "$MLBOT_SCAN_REF"
    trivy convert --format sarif --output "$dir/results.sarif" "$dir/report.json"
    {
      echo "report=$dir/report.json"
      echo "sarif=$dir/results.sarif"
    } >>"$GITHUB_OUTPUT"
    ;;
  gate)
    args=(scan-gate "$MLBOT_REPORT")
    [[ -n "${MLBOT_POLICY:-}" ]] && args+=(--policy "$MLBOT_POLICY")
    [[ -n "${MLBOT_IGNOREFILE:-}" ]] && args+=(--ignorefile "$MLBOT_IGNOREFILE")
    [[ -n "${MLBOT_SEVERITY:-}" ]] && args+=(--severity "$MLBOT_SEVERITY")
    [[ "${MLBOT_IGNORE_UNFIXED:-false}" == true ]] && args+=(--ignore-unfixed)
    rc=0
    mlbot "${args[@]}" --json --markdown "$evidence/scan.md" >"$evidence/scan-evidence.json" || rc=$?
    echo "exit-code=$rc" >>"$GITHUB_OUTPUT"
    case "$rc" in
      0) result=passed ;;
      1) result=failed ;;
      *) echo "result=error" >>"$GITHUB_OUTPUT"
         echo "::error title=mlbot scan::mlbot scan-gate could not read the Trivy report (exit $rc)."
         exit "$rc" ;;
    esac
    blocking="$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["blocking"]))' "$evidence/scan-evidence.json")"
    {
      echo "result=$result"
      echo "evidence=$evidence/scan-evidence.json"
      echo "blocking=$blocking"
    } >>"$GITHUB_OUTPUT"
    [[ -f "$evidence/scan.md" ]] && cat "$evidence/scan.md" >>"$GITHUB_STEP_SUMMARY"
    # The summary shows the first findings of each list; the log keeps every one.
    mlbot "${args[@]}" || true
    if [[ "$rc" == 1 ]]; then
      if [[ "$blocking" == 1 ]]; then found="1 blocking finding"; else found="$blocking blocking findings"; fi
      echo "::error title=mlbot scan::$found; the step summary lists them."
    fi
    [[ "${MLBOT_DEFER:-false}" == true ]] && exit 0
    exit "$rc"
    ;;
  fail-if)
    [[ "${MLBOT_EXIT_CODE:-0}" == 0 ]] || exit "$MLBOT_EXIT_CODE"
    ;;
  *) echo "usage: scan.sh trivy|gate|fail-if" >&2; exit 2 ;;
esac

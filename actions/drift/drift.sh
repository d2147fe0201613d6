#!/usr/bin/env bash
# The `drift` action's step. Inputs (and the token) arrive only through the environment.
set -euo pipefail

dir="$RUNNER_TEMP/mlbot-drift"
mkdir -p "$dir"
args=(drift --repo "$MLBOT_REPO" --current "$MLBOT_CURRENT" --json --report "$dir/drift.html")
[[ -n "${MLBOT_MODEL:-}" ]] && args+=("$MLBOT_MODEL")
[[ -n "${MLBOT_REFERENCE:-}" ]] && args+=(--reference "$MLBOT_REFERENCE")
[[ "${MLBOT_OPEN_ISSUE:-false}" == true ]] && args+=(--open-issue)

rc=0
mlbot "${args[@]}" >"$dir/drift.json" || rc=$?
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
python3 - "$dir/drift.json" "${MLBOT_MODEL:-}" >>"$GITHUB_STEP_SUMMARY" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
dataset = result.get("dataset", {})
print(f"### mlbot drift{': `' + sys.argv[2] + '`' if sys.argv[2] else ''}")
print()
verdict = "drift detected" if dataset.get("drifted") else "no drift"
share = dataset.get("share")
print(f"**{verdict}**" + (f": {share:.0%} of columns drifted" if isinstance(share, float) else ""))
print()
print("| column | method | score | drifted |")
print("|---|---|---|---|")
for col in result.get("columns", []):
    score = col.get("score")
    score = f"{score:.4g}" if isinstance(score, (int, float)) else ""
    flag = "yes" if col.get("drifted") else "no"
    print(f"| {col.get('column', '')} | {col.get('method', '')} | {score} | {flag} |")
PY
if [[ "$drifted" == true ]]; then
  echo "::warning title=mlbot drift::data drift detected; see the step summary and the report artifact."
  [[ "${MLBOT_FAIL_ON_DRIFT:-false}" == true ]] && exit 1
fi
exit 0

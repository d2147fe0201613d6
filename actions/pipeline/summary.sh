#!/usr/bin/env bash
# The root action's step summary, with the overall status first.
#   summary.sh start     makes a fresh folder; the steps after it write their summaries there
#                        (each script sends $GITHUB_STEP_SUMMARY to MLBOT_SUMMARY_DIR/<step>.md)
#   summary.sh compose   writes the status line, what to do next and a table of the steps,
#                        then every step's summary, in pipeline order, into the real summary
# GitHub shows a job's summary as the step summaries in step order, so a status written by the
# last step would land at the bottom; collecting them lets the last step write the top.
# Outcomes arrive through env: (steps.<id>.outcome, and the gate steps' recorded results).
set -euo pipefail

ORDER=(setup validate train evaluate scan sign)

case "${1:-}" in
  start)
    dir="$(mktemp -d "$RUNNER_TEMP/mlbot-summary.XXXXXX")"
    echo "dir=$dir" >>"$GITHUB_OUTPUT"
    exit 0
    ;;
  compose) ;;
  *) echo "usage: summary.sh start|compose" >&2; exit 2 ;;
esac

dir="${MLBOT_SUMMARY_DIR:-}"
model="${MLBOT_MODEL:-}"
version=""
if [[ -n "${MLBOT_EVALUATION:-}" && -f "$MLBOT_EVALUATION" ]] && command -v python3 >/dev/null; then
  model="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("model") or "")' \
    "$MLBOT_EVALUATION" 2>/dev/null || echo "$model")"
  version="$(python3 -c 'import json, sys
print((json.load(open(sys.argv[1])).get("candidate") or {}).get("version") or "")' \
    "$MLBOT_EVALUATION" 2>/dev/null || true)"
fi
# Model names are [A-Za-z0-9._-] (checked by mlbot); anything else is not shown.
[[ "$model" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || model=""
[[ "$version" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || version=""
what="${model:+\`$model\`}${version:+ $version}"
out="$(mktemp "${RUNNER_TEMP:-/tmp}/mlbot-pipeline.XXXXXX")"

rows=()   # "| step | result |" lines
failed=() # step names, in pipeline order
hints=()  # what to do, one per failed step
broken=false # whether a step failed (the default `if:` skips the steps after it)
row() { rows+=("| $1 | $2 |"); }
not_run() {
  if [[ "$broken" == true ]]; then
    row "$1" "➖ not run: an earlier step failed"
  else
    row "$1" "➖ not run${2:+: $2}"
  fi
}
fail() {
  row "$1" "❌ $2"
  failed+=("$1")
  hints+=("**$1**: $3")
  broken=true
}

case "${MLBOT_OUTCOME_INSTALL:-}" in
  success) row setup "✅ mlbot installed" ;;
  failure) fail setup "mlbot could not be installed" \
    "the *Install mlbot* step's log says why; check the \`extras\` and \`python-version\` inputs." ;;
  *) not_run setup ;;
esac

case "${MLBOT_OUTCOME_VALIDATE:-}" in
  success) row validate "✅ data and configuration valid" ;;
  failure) fail validate "the data or the configuration breaks the rules" \
    "fix the data or its contract (or \`.github/mlbot.yml\`); the validate section below lists every violation, and each is annotated on its file." ;;
  *) not_run validate ;;
esac

case "${MLBOT_OUTCOME_TRAIN:-}" in
  success) row train "✅ trained" ;;
  failure) fail train "training failed" \
    "the train section below shows the error and the end of the training log." ;;
  *) not_run train ;;
esac

case "${MLBOT_OUTCOME_EVALUATE:-}/${MLBOT_VERDICT:-}" in
  success/pass) row evaluate "✅ passes its gates" ;;
  success/fail) fail evaluate "fails a policy gate" \
    "the evaluate section below says which gate failed and by how much; improve the model, or change the policy in \`.github/mlbot.yml\` with the code owners, and push." ;;
  success/* | failure/*) fail evaluate "could not evaluate" \
    "the *Evaluate against production* step's log says why \`mlbot evaluate\` could not run." ;;
  *) not_run evaluate ;;
esac

if [[ "${MLBOT_SCAN:-}" != true ]]; then
  row scan "➖ not run: \`scan\` is off"
elif [[ "${MLBOT_OUTCOME_TRIVY:-}" == failure ]]; then
  fail scan "Trivy failed" "the *Run Trivy* step's log says why."
else
  blocking="${MLBOT_SCAN_BLOCKING:-}"
  [[ "$blocking" =~ ^[0-9]+$ ]] || blocking=""
  case "${MLBOT_SCAN_RESULT:-}" in
    passed) row scan "✅ no blocking findings" ;;
    failed)
      if [[ "$blocking" == 1 ]]; then found="1 blocking finding"; else found="${blocking:-some} blocking findings"; fi
      fail scan "$found" \
        "upgrade each package the scan section below lists to its fixed version, or record a justified exception in the ignore file (\`ignorefile\`)." ;;
    error) fail scan "mlbot scan-gate could not read the Trivy report" \
      "the *Gate with mlbot scan-gate* step's log says why." ;;
    *) not_run scan ;;
  esac
fi

if [[ "${MLBOT_SIGN:-none}" == none ]]; then
  row sign "➖ not run: \`sign\` is none"
elif [[ "${MLBOT_OUTCOME_SIGN:-}" == failure ]]; then
  fail sign "signing failed" \
    "key mode: check the \`key\` and \`password\` inputs; keyless: the job needs \`id-token: write\`."
elif [[ "${MLBOT_OUTCOME_VERIFY:-}" == failure ]]; then
  fail sign "the new signature does not verify" \
    "the \`public-key\` input must be the public half of \`key\` (keyless: the certificate identity and issuer must match)."
elif [[ "${MLBOT_OUTCOME_VERIFY:-}" == success ]]; then
  row sign "✅ signed and verified"
else
  not_run sign
fi

case "${MLBOT_OUTCOME_UPLOAD:-}" in
  success) row upload "✅ evaluation and evidence uploaded${MLBOT_ARTIFACT_NAME:+ as \`$MLBOT_ARTIFACT_NAME\`}" ;;
  failure) fail upload "the upload failed" \
    "the bot reads this run's evaluation from the uploaded artifact: re-run the job." ;;
  *) row upload "➖ not uploaded: no evaluation was written" ;;
esac

{
  if [[ ${#failed[@]} == 0 ]]; then
    echo "### ✅ mlbot pipeline: ${what:-the model} passed"
    echo
    if [[ "${MLBOT_OUTCOME_UPLOAD:-}" == success ]]; then
      echo "Next: mlbot's comment on the pull request compares the candidate with production; once its gates are green, comment \`/promote\` there."
    else
      echo "Next: nothing was uploaded for the bot to compare; see the steps below."
    fi
  else
    names="${failed[0]}"
    for ((i = 1; i < ${#failed[@]}; i++)); do
      if ((i == ${#failed[@]} - 1)); then names+=" and ${failed[i]}"; else names+=", ${failed[i]}"; fi
    done
    echo "### ❌ mlbot pipeline: ${names} failed${what:+ for $what}"
    echo
    if [[ ${#hints[@]} == 1 ]]; then
      echo "Next: ${hints[0]}"
    else
      echo "Next:"
      echo
      for hint in "${hints[@]}"; do echo "- $hint"; done
    fi
  fi
  echo
  echo "| Step | Result |"
  echo "|---|---|"
  for line in "${rows[@]}"; do echo "$line"; done
} >"$out"

# GitHub refuses a step summary over 1 MiB (and shows nothing of it): a step's summary that
# would push past the limit is left out whole (never cut inside a table or a fence), and said so.
limit=1000000
if [[ -n "$dir" && -d "$dir" ]]; then
  shown=()
  for step in "${ORDER[@]}"; do
    [[ -s "$dir/$step.md" ]] && shown+=("$dir/$step.md")
  done
  # A summary this script does not know yet still shows, after the known ones.
  for file in "$dir"/*.md; do
    [[ -s "$file" ]] || continue
    [[ " ${shown[*]} " == *" $file "* ]] || shown+=("$file")
  done
  for file in "${shown[@]}"; do
    size="$(wc -c <"$file")"
    if (($(wc -c <"$out") + size + 2000 > limit)); then
      printf '\n> [!WARNING]\n> The %s summary (%s bytes) does not fit in GitHub'"'"'s 1 MiB step summary; the evidence artifact and the step'"'"'s log hold the details.\n' \
        "$(basename "$file" .md)" "$size" >>"$out"
    else
      { echo; cat "$file"; } >>"$out"
    fi
  done
fi
cat "$out" >>"$GITHUB_STEP_SUMMARY"
rm -f "$out"

#!/usr/bin/env bash
# Opens a retraining PR for MLBOT_MODEL (used by the mlbot-retrain reusable workflow): one
# commit on mlbot/retrain/<model>/run-<id> that records why in registry/<model>/retrain.yaml.
# The bot opens the same kind of PR from a drift issue or /retrain; the PR pipeline runs on it.
set -euo pipefail

[[ "$MLBOT_MODEL" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || {
  echo "::error title=mlbot retrain::not a model name: $MLBOT_MODEL"
  exit 2
}
branch="mlbot/retrain/$MLBOT_MODEL/run-$GITHUB_RUN_ID"
run_url="$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
file="registry/$MLBOT_MODEL/retrain.yaml"
mkdir -p "registry/$MLBOT_MODEL"
MLBOT_RUN_URL="$run_url" python3 - "$file" <<'PY'
import json, os, sys
# JSON is valid YAML, and json.dumps quotes whatever the reason holds.
fields = {
    "reason": os.environ["MLBOT_REASON"],
    "requested_by": os.environ.get("GITHUB_ACTOR", ""),
    "run": os.environ["MLBOT_RUN_URL"],
}
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write("".join(f"{k}: {json.dumps(v)}\n" for k, v in fields.items()))
PY
# The body the bot writes for its own retraining PRs (one template): why, who asked, this run,
# what the PR pipeline will do, and how to promote. Rendered before pushing: a body that cannot
# be written leaves no branch behind.
body="$(mktemp "${RUNNER_TEMP:-/tmp}/mlbot-retrain-body.XXXXXX")"
# `--opt=value`: a reason that starts with a dash is still the reason, not an option.
mlbot retrain-body "$MLBOT_MODEL" --reason="$MLBOT_REASON" \
  --requested-by="${GITHUB_ACTOR:-github-actions[bot]}" --run-url="$run_url" --out="$body"
git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
git switch --create "$branch"
git add -- "$file"
git commit --quiet --message "registry: retrain $MLBOT_MODEL" --message "Reason: $MLBOT_REASON"
# gh hands GH_TOKEN to git as a credential helper: the token never appears in a URL or a log.
gh auth setup-git
git push origin "$branch"
url="$(gh pr create --head "$branch" --title "Retrain $MLBOT_MODEL" --body-file "$body")"
echo "### ✅ mlbot retrain: opened $url" >>"$GITHUB_STEP_SUMMARY"

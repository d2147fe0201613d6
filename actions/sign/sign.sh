#!/usr/bin/env bash
# Steps of the `sign` action. Inputs (and secrets) arrive only through the environment.
#   sign.sh sign     signs MLBOT_ARTIFACT (key mode: mlbot sign-blob; keyless: cosign)
#   sign.sh verify   verifies the result with mlbot verify-blob, as the promotion gate will
set -euo pipefail
# In the root action the last step writes the summaries under the overall status (summary.sh).
[[ -z "${MLBOT_SUMMARY_DIR:-}" ]] || export GITHUB_STEP_SUMMARY="$MLBOT_SUMMARY_DIR/sign.md"

dir="$RUNNER_TEMP/mlbot-sign"
# Files the bot reads go, flat, into one folder that becomes the run's artifact.
evidence="$RUNNER_TEMP/mlbot-evidence"
mkdir -p "$dir" "$evidence"
# The summary shows paths as a reader of the repository knows them, never the runner's.
repo_paths() {
  sed -e "s#${GITHUB_WORKSPACE:-/nonexistent}/##g" -e "s#$RUNNER_TEMP/#\$RUNNER_TEMP/#g"
}
fail() {
  echo "::error title=mlbot sign::$1"
  {
    echo "### ❌ mlbot sign: ${what:-failed}"
    echo
    echo "$1"
  } | repo_paths >>"$GITHUB_STEP_SUMMARY"
  exit "${2:-1}"
}
what="signing failed"
[[ "${1:-}" == verify ]] && what="not verified"
[[ -f "$MLBOT_ARTIFACT" ]] || fail "artifact not found: $MLBOT_ARTIFACT" 2

case "${1:-}" in
  sign)
    echo "sha256=$(sha256sum "$MLBOT_ARTIFACT" | cut -d' ' -f1)" >>"$GITHUB_OUTPUT"
    case "$MLBOT_MODE" in
      key)
        [[ -n "${MLBOT_KEY:-}" ]] || fail "key mode needs the \`key\` input (a secret holding the private key)" 2
        key_file="$dir/signing.key"
        # The key reaches disk only for the signing command, readable by this user alone.
        trap 'rm -f "$key_file"' EXIT
        (umask 077 && printf '%s\n' "$MLBOT_KEY" >"$key_file")
        # mlbot sign-blob writes what `cosign sign-blob --key` writes, and reads the same keys.
        mlbot sign-blob --key "$key_file" --output-signature "$MLBOT_ARTIFACT.sig" "$MLBOT_ARTIFACT"
        echo "signature=$MLBOT_ARTIFACT.sig" >>"$GITHUB_OUTPUT"
        ;;
      keyless)
        cosign sign-blob --yes --new-bundle-format --bundle "$MLBOT_ARTIFACT.sigstore.json" \
          "$MLBOT_ARTIFACT"
        echo "bundle=$MLBOT_ARTIFACT.sigstore.json" >>"$GITHUB_OUTPUT"
        ;;
      *) fail "mode must be key or keyless, got: $MLBOT_MODE" 2 ;;
    esac
    ;;
  verify)
    verdict="$evidence/signature-verification.json"
    args=(verify-blob "$MLBOT_ARTIFACT" --json)
    if [[ "$MLBOT_MODE" == key ]]; then
      [[ -n "${MLBOT_PUBLIC_KEY:-}" ]] || fail "key mode needs \`public-key\`: the trusted public key to verify with" 2
      args+=(--key "$MLBOT_PUBLIC_KEY" --signature "$MLBOT_SIGNATURE")
    else
      args+=(--bundle "$MLBOT_BUNDLE")
      identity="${MLBOT_IDENTITY:-}"
      if [[ -z "$identity" ]]; then
        # Read the SAN from the certificate; the chain, Rekor entry and issuer are still checked
        # below, and the promotion policy decides whether this identity is trusted.
        identity="$(mlbot verify-blob "$MLBOT_ARTIFACT" --bundle "$MLBOT_BUNDLE" --json \
          --insecure-signature-only | python3 -c 'import json, sys; print(json.load(sys.stdin)["identity"] or "")')"
      fi
      args+=(--certificate-identity "$identity" --certificate-oidc-issuer "$MLBOT_ISSUER")
    fi
    rc=0
    mlbot "${args[@]}" >"$verdict" || rc=$?
    field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]) or "")' "$verdict" "$1"; }
    if [[ "$rc" != 0 ]]; then
      reason="$(field reason 2>/dev/null || true)"
      fail "the new signature does not verify: ${reason:-mlbot verify-blob exit $rc}" "$rc"
    fi
    cp "${MLBOT_SIGNATURE:-$MLBOT_BUNDLE}" "$evidence/"
    {
      echo "verification=$verdict"
      echo "identity=$(field identity)"
      echo "key-fingerprint=$(field key_fingerprint)"
    } >>"$GITHUB_OUTPUT"
    {
      echo "### ✅ mlbot sign: verified"
      echo
      echo "| Field | Value |"
      echo "|---|---|"
      echo "| artifact | \`$(basename "$MLBOT_ARTIFACT")\` sha256 \`$(sha256sum "$MLBOT_ARTIFACT" | cut -d' ' -f1)\` |"
      echo "| mode | $MLBOT_MODE |"
      [[ -n "$(field identity)" ]] && echo "| identity | \`$(field identity)\` ($(field issuer)) |"
      [[ -n "$(field key_fingerprint)" ]] && echo "| key | \`$(field key_fingerprint)\` |"
      echo "| checked | $(field checked | tr -d "[]'") |"
    } | repo_paths >>"$GITHUB_STEP_SUMMARY"
    ;;
  *) echo "usage: sign.sh sign|verify" >&2; exit 2 ;;
esac

#!/bin/sh
# The "by hand" baseline bench/run.ts compares `render` with: what an entrypoint does today without secrets-init.
# One `aws secretsmanager get-secret-value` per secret, piped through jq into the same kind of env file.
# Same environment as `render`: SECRET_NAME (comma-separated), SECRETS_DIR, AWS_ENDPOINT_URL, region, credentials.
set -eu
umask 077
mkdir -p "$SECRETS_DIR"
tmp="$SECRETS_DIR/app.env.tmp"
: >"$tmp"
for id in $(printf '%s' "$SECRET_NAME" | tr ',' ' '); do
  aws --endpoint-url "$AWS_ENDPOINT_URL" secretsmanager get-secret-value --secret-id "$id" \
    --query SecretString --output text | jq -r 'to_entries[] | "export \(.key)=\(.value | @sh)"' >>"$tmp"
done
mv "$tmp" "$SECRETS_DIR/app.env"

#!/usr/bin/env bash
# The Terraform provider's part of `npm test`: gofmt, go vet, and the acceptance tests against a
# real Interim (started by the Go harness from this checkout) on each dialect in DIALECTS
# (default sqlite,postgres), through the OpenTofu that scripts/build-tofu.sh builds once and caches.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
timed() {
  local what=$1 t=$SECONDS
  shift
  "$@"
  echo "terraform: $what passed ($((SECONDS - t)) s)"
}

command -v go >/dev/null || { echo "terraform: the provider's tests need Go 1.25 or later (https://go.dev/dl/)" >&2; exit 1; }

# Built once per machine (a few minutes), then reused from ~/.cache/interim/tofu.
TF_ACC_TERRAFORM_PATH="$(scripts/build-tofu.sh)"
export TF_ACC_TERRAFORM_PATH

cd terraform
check_format() {
  local unformatted
  unformatted="$(gofmt -l .)"
  if [ -n "$unformatted" ]; then
    echo "terraform: not gofmt-formatted (run gofmt -w in terraform/):" >&2
    echo "$unformatted" >&2
    return 1
  fi
}
timed "gofmt" check_format
timed "go vet" go vet ./...
IFS=',' read -r -a dialects <<<"${DIALECTS:-sqlite,postgres}"
for dialect in "${dialects[@]}"; do
  timed "acceptance tests on $dialect" env TF_ACC=1 INTERIM_TEST_DIALECT="$dialect" go test -count=1 ./...
done
echo "terraform: all passed in $((SECONDS - started)) s"

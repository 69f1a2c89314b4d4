#!/usr/bin/env bash
# Builds the OpenTofu CLI once from its Go module and caches it under the home folder, so the
# provider's acceptance tests have a real CLI without the (unreachable) release site.
# `go install` refuses OpenTofu (its go.mod has a replace directive), so the module is downloaded,
# copied to a writable folder and built there. Prints the binary's path on stdout.
set -euo pipefail

TOFU_VERSION="${TOFU_VERSION:-v1.12.6}"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/interim/tofu/$TOFU_VERSION"
TOFU_BIN="$CACHE_DIR/tofu"

# A release build says "OpenTofu v1.12.6"; a -dev marker would mean an older, unfinished build.
# (Captured first: with pipefail, `grep -q` closing the pipe early could fail the check at random.)
cached_version="$([ -x "$TOFU_BIN" ] && "$TOFU_BIN" version 2>/dev/null || true)"
if printf '%s\n' "$cached_version" | grep -qx "OpenTofu $TOFU_VERSION"; then
  echo "$TOFU_BIN"
  exit 0
fi

command -v go >/dev/null || { echo "build-tofu: Go is required to build OpenTofu" >&2; exit 1; }

echo "build-tofu: building OpenTofu $TOFU_VERSION (a few minutes, once)" >&2
module_dir="$(go mod download -json "github.com/opentofu/opentofu@$TOFU_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
[ -d "$module_dir" ] || { echo "build-tofu: go mod download gave no module folder" >&2; exit 1; }

work_dir="$(mktemp -d)"
trap 'chmod -R u+w "$work_dir" 2>/dev/null; rm -rf "$work_dir"' EXIT
cp -R "$module_dir/." "$work_dir/src"
chmod -R u+w "$work_dir/src"

mkdir -p "$CACHE_DIR"
# Build to a temporary name, then rename: a concurrent or interrupted build never leaves a half binary.
(cd "$work_dir/src" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build \
  -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$TOFU_BIN.partial.$$" ./cmd/tofu)
mv "$TOFU_BIN.partial.$$" "$TOFU_BIN"
"$TOFU_BIN" version >/dev/null 2>&1
echo "$TOFU_BIN"

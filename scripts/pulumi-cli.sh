#!/usr/bin/env bash
# Make a real Pulumi CLI available and print the directory that holds it (the last line of stdout).
#
#   bin=$(bash scripts/pulumi-cli.sh)    # then: PATH="$bin:$PATH" pulumi version
#
# 1. A `pulumi` on PATH of a supported version, with the dynamic-provider plugin script beside it, is used as is.
# 2. Otherwise the version pinned in tools/pulumi-cli/go.mod is built with the `go` command from the Go module
#    proxy into a cache outside the clone (PULUMI_TOKENFACTORY_CACHE, default ~/.cache/pulumi-tokenfactory),
#    keyed by go.sum, so a fresh clone on the same machine reuses it. Beside `pulumi` go the two plugin scripts
#    that ship inside the sdk/v3 module (`pulumi-resource-pulumi-python`, which runs `python -m pulumi.dynamic`,
#    and `pulumi-language-python-exec`), with their exec bit restored and their names kept exactly.
# 3. The Python language host (`pulumi-language-python`) is its own Go module; the script asks the proxy for it
#    and records the answer in the cache (`language-host.txt`). Where it cannot be had, programs run as
#    Automation API inline programs, which the real engine drives through an in-process language server.
#
# Nothing of Pulumi's is written into the clone; only our manifest (go.mod, go.sum) is committed.
# Progress goes to stderr. Exit status 3: no usable CLI and no Go toolchain to build one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
manifest="$root/tools/pulumi-cli"
min_version=${PULUMI_MIN_VERSION:-3.260.0}
say() { printf 'pulumi-cli: %s\n' "$*" >&2; }

version=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { print $2; exit }' "$manifest/go.mod")
[ -n "$version" ] || { say "no github.com/pulumi/pulumi/pkg/v3 requirement in $manifest/go.mod"; exit 2; }

version_at_least() {  # version_at_least HAVE WANT: HAVE >= WANT, both x.y.z (a leading v is ignored)
  [ "$(printf '%s\n%s\n' "${2#v}" "${1#v}" | sort -V | head -n 1)" = "${2#v}" ]
}

# 1. A CLI already installed.
if [ -z "${PULUMI_CLI_FORCE_BUILD:-}" ] && on_path=$(command -v pulumi 2>/dev/null); then
  dir=$(dirname "$(readlink -f "$on_path")")
  have=$("$on_path" version 2>/dev/null || true)
  if [ -n "$have" ] && version_at_least "$have" "$min_version" && [ -x "$dir/pulumi-resource-pulumi-python" ]; then
    say "using $on_path ($have)"
    echo "$dir"
    exit 0
  fi
  say "ignoring $on_path (version '${have:-none}', need >= $min_version with pulumi-resource-pulumi-python beside it)"
fi

# 2. The pinned build, cached outside the clone.
cache_root=${PULUMI_TOKENFACTORY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-tokenfactory}
key=$(sha256sum "$manifest/go.sum" | cut -c1-12)
prefix="$cache_root/pulumi-cli/$version-$key"
bin="$prefix/bin"
if [ -x "$bin/pulumi" ] && [ "$("$bin/pulumi" version 2>/dev/null || true)" = "$version" ] \
   && [ -x "$bin/pulumi-resource-pulumi-python" ] && [ -x "$bin/pulumi-language-python-exec" ]; then
  say "using cached $bin/pulumi ($version)"
  echo "$bin"
  exit 0
fi

command -v go >/dev/null 2>&1 || { say "no usable pulumi on PATH and no go toolchain to build $version"; exit 3; }
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}" "${USER:=$(id -un)}"
export HOME USER
started=$(date +%s)
say "building pulumi $version from the Go module proxy into $prefix (several minutes on 2 cores, once)"
staging=$(mktemp -d "$cache_root/.staging.XXXXXX" 2>/dev/null || { mkdir -p "$cache_root" && mktemp -d "$cache_root/.staging.XXXXXX"; })
trap 'rm -rf "$staging"' EXIT
chmod 0755 "$staging"
mkdir -p "$staging/bin"
(cd "$manifest" && go build -mod=readonly -trimpath -tags osusergo,grpcnotrace \
   -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
   -o "$staging/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)

sdk_dir=$(cd "$manifest" && go list -mod=readonly -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
[ -n "$sdk_dir" ] && [ -d "$sdk_dir" ] || { say "go list found no directory for github.com/pulumi/pulumi/sdk/v3"; exit 2; }
for script in python/dist/pulumi-resource-pulumi-python python/cmd/pulumi-language-python-exec; do
  install -m 0755 "$sdk_dir/$script" "$staging/bin/$(basename "$script")"
done

# 3. The Python language host: ask once, keep the answer.
lang_module=github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
if answer=$(cd "$staging" && GOFLAGS= go mod download -json "$lang_module@$version" 2>&1) \
   && ! grep -q '"Error"' <<<"$answer"; then
  echo "served: $lang_module@$version (not yet in our manifest; add it to tools/pulumi-cli to build it)" \
    > "$staging/language-host.txt"
else
  { echo "refused: $lang_module@$version"; grep -o '"Error": *"[^"]*"' <<<"$answer" || echo "$answer"; } \
    > "$staging/language-host.txt"
fi
say "language host: $(head -n 1 "$staging/language-host.txt")"

[ "$("$staging/bin/pulumi" version)" = "$version" ] || { say "the built CLI does not report $version"; exit 2; }
rm -rf "$prefix"
mkdir -p "$(dirname "$prefix")"
mv "$staging" "$prefix"
trap - EXIT
say "built in $(( $(date +%s) - started ))s: $bin"
echo "$bin"

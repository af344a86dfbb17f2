#!/usr/bin/env bash
# Runs a subset of the suite (the unit project and the Postgres reads/writes integration tests) against other Prisma 7
# versions than the lock file's: for each version, a scratch copy of the repository (hard-linked node_modules) gets
# `@prisma/client`, `prisma` and `@prisma/adapter-pg` at that version, regenerates the clients and runs the tests.
# The plugin reads three Prisma internals (docs/prisma-internals.md); this is what catches a release that moves one.
#
#   scripts/prisma-versions.sh                 # the versions CI checks: the lowest and the newest supported
#   scripts/prisma-versions.sh 7.4.0           # any other spec npm accepts, applied to the three packages
#
# Needs the services of the integration tests (DATABASE_URL, REDIS_URL) and an installed node_modules.
# Keep PRISMA_VERSIONS in step with the `@prisma/client` peer range in package.json.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
if [[ ! -f package.json || ! -d node_modules ]] || ! grep -q '"name": "prisma-cache-plugin"' package.json; then
  echo "$0: run it from the repository's scripts/ folder, with node_modules installed" >&2
  exit 1
fi

# The lowest supported version, and the newest patch of the newest supported minor (each package's own newest:
# prisma and @prisma/adapter-pg may have a patch that @prisma/client has not). Below 7.5 the suite does not pass:
# 7.0.0, 7.1.0 and 7.3.0 refuse a NaN Float in create ("Argument `float` is missing"), which reads.test.ts seeds.
PRISMA_VERSIONS=(7.5.0 "~7.10.0")
if (( $# > 0 )) && [[ "$1" != --one ]]; then PRISMA_VERSIONS=("$@"); fi

# SUBSET overrides the integration test files, e.g. SUBSET=test/integration/reads.test.ts; SKIP_UNIT=1 skips the unit project.
read -r -a TESTS <<<"${SUBSET:-test/integration/reads.test.ts test/integration/writes.test.ts}"

# Inside the repository (git-ignored), so that `cp -al` stays on one filesystem.
SCRATCH_ROOT="$ROOT/scratch/prisma-versions"
mkdir -p "$SCRATCH_ROOT"
# Every scratch copy is removed when the script exits, a failing run included.
SCRATCH_DIRS=()
trap 'rm -rf "${SCRATCH_DIRS[@]}"' EXIT

run_version() {
  local spec=$1 started=$SECONDS
  local dir
  dir=$(mktemp -d "$SCRATCH_ROOT/run-XXXXXX")
  SCRATCH_DIRS+=("$dir")

  echo "=== Prisma $spec: scratch copy in $dir"
  tar -C "$ROOT" --exclude=./node_modules --exclude=./generated --exclude=./dist --exclude=./scratch --exclude=./.git --exclude=./.bench -cf - . | tar -C "$dir" -xf -
  cp -al "$ROOT/node_modules" "$dir/node_modules"

  # The three packages and their dependencies at that version, installed alone (faster than re-resolving the
  # whole tree), then moved over the copy's entries of the same names. Entries are removed before they are
  # replaced, never written into, so the hard links never change the repository's own node_modules.
  # --ignore-scripts: Prisma's install scripts would try to download engines; generate.mjs does without them.
  mkdir "$dir/.overlay"
  echo '{"private": true}' >"$dir/.overlay/package.json"
  npm install --prefix "$dir/.overlay" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts --legacy-peer-deps --loglevel=error \
    "@prisma/client@$spec" "prisma@$spec" "@prisma/adapter-pg@$spec"
  local entry
  for entry in "$dir"/.overlay/node_modules/* "$dir"/.overlay/node_modules/@*/*; do
    [[ -e "$entry" && ! "$entry" =~ /@[^/]*$ ]] || continue
    local name=${entry#"$dir/.overlay/node_modules/"}
    rm -rf "$dir/node_modules/$name"
    mkdir -p "$(dirname "$dir/node_modules/$name")"
    mv "$entry" "$dir/node_modules/$name"
  done
  rm -rf "$dir/.overlay" "$dir/node_modules/.package-lock.json"

  (
    cd "$dir"
    local versions
    versions=$(node -p '["@prisma/client", "prisma", "@prisma/adapter-pg"].map((p) => p + "@" + require("./node_modules/" + p + "/package.json").version).join(" ")')
    echo "=== Prisma $spec: installed $versions"
    node scripts/generate.mjs >/dev/null
    # One project after the other: the unit project's heavier tests time out when they share the cores.
    if [[ "${SKIP_UNIT:-}" != 1 ]]; then npx vitest run --project unit; fi
    npx vitest run --project integration "${TESTS[@]}"
  )
  echo "=== Prisma $spec: passed in $(( SECONDS - started )) s"
}

# One version per process (`--one SPEC`), so that `set -e` stops a failing version and its scratch copy is removed;
# every version runs, then the script fails if any did.
if [[ "${1:-}" == --one ]]; then
  run_version "$2"
  exit 0
fi
failed=()
for spec in "${PRISMA_VERSIONS[@]}"; do
  if ! bash "${BASH_SOURCE[0]}" --one "$spec"; then
    echo "=== Prisma $spec: FAILED" >&2
    failed+=("$spec")
  fi
done
if (( ${#failed[@]} > 0 )); then
  echo "Prisma versions that failed: ${failed[*]}" >&2
  exit 1
fi
echo "Prisma versions passed: ${PRISMA_VERSIONS[*]}"

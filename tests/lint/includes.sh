#!/usr/bin/env bash
# lint.includes: no include crosses the layers (the brief's rule: client/ and
# server/ depend on protocol/ and common/, never on each other).
#
#   includes.sh SOURCE_ROOT
#
# Each folder below may include "<folder>/..." only of the folders listed
# for it; any other top-level folder of the repository is refused, and so is
# a relative include that climbs ("../"). Bare includes ("x.h") and system
# headers (<...> not naming a repository folder) are not looked at.
set -euo pipefail
root=$(cd "$1" && pwd)

declare -A allowed=(
  [common]="common"
  [protocol]="protocol common"
  [client]="client protocol common"
  [server]="server protocol common"
  [scheduler]="scheduler protocol common"
)
# The repository's top-level folders: what an include may name.
mapfile -t folders < <(find "$root" -mindepth 1 -maxdepth 1 -type d ! -name '.*' ! -name 'build*' -printf '%f\n')
folders_re=$(IFS='|'; echo "${folders[*]}")

violations=0
for folder in "${!allowed[@]}"; do
  [ -d "$root/$folder" ] || continue
  allowed_re=$(tr ' ' '|' <<< "${allowed[$folder]}")
  while IFS= read -r line; do
    echo "$folder/ may include only ${allowed[$folder]}: $line"
    violations=$((violations + 1))
  done < <(cd "$root" && grep -rnE --include='*.h' --include='*.cc' --include='*.inc' --include='*.cu' \
             "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<](($folders_re)/|\.\./)" "$folder" |
           grep -vE "#[[:space:]]*include[[:space:]]*[\"<]($allowed_re)/" || true)
done
if [ "$violations" -ne 0 ]; then
  echo "lint.includes: $violations include(s) across the layers" >&2
  exit 1
fi
echo "lint.includes: ${!allowed[*]}: no include across the layers"

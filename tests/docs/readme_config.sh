#!/usr/bin/env bash
# README's configuration table lists every key `sluice --help` prints (the KEYS table of server/config.c),
# and no key sluice does not know. ctest runs it as "docs_readme_config":
#   tests/docs/readme_config.sh <sluice binary> <README.md>
set -euo pipefail
bin=${1:?sluice binary}
readme=${2:?README.md}
help_keys=$("$bin" --help 2>&1 | awk '$2 ~ /^SLUICE_/ {print $1}' | sort -u)
[ -n "$help_keys" ] || { echo "no keys in '$bin --help'"; exit 1; }
table_keys=$(awk '/^## Configuration/ {on = 1; next} on && /^## / {on = 0} on' "$readme" |
  sed -n 's/^| `\([a-z0-9.]*\)` |.*/\1/p' | sort -u)
missing=$(comm -23 <(echo "$help_keys") <(echo "$table_keys"))
unknown=$(comm -13 <(echo "$help_keys") <(echo "$table_keys"))
rc=0
[ -z "$missing" ] || { echo "README.md's configuration table lacks:" $missing; rc=1; }
[ -z "$unknown" ] || { echo "README.md's configuration table lists keys sluice does not have:" $unknown; rc=1; }
[ $rc -ne 0 ] || echo "all $(echo "$help_keys" | wc -l) keys are in README.md's configuration table"
exit $rc

#!/usr/bin/env bash
# The layer check (`make test`, stage test-layers): no source file includes a header of a layer above its own.
#
# LAYERS, lowest first; a file may include headers of its own layer and of the layers below it, never above:
#     storage/    files, formats, recovery          (includes nothing of sluice's outside storage/)
#     server/     broker, partitions, groups, config (storage/)
#     api/        REST, WebSocket, codecs           (server/, storage/)
# The one exception: server/main.c, the composition root, which creates the api objects and so includes api/.
# Within api/, the sub-folders are layered the same way (see RULES below): a file in api/<a>/ may include
# api/<b>/ only when <b> is listed for <a>.
#
# Usage: tests/layers.sh [ROOT]    (ROOT: the checkout, default: the one this script is in)
#        tests/layers.sh --self-test  (checks that a planted upward include is found and a clean tree passes)
# Prints one line per violation, "file:line: includes X: <layer> may not include <layer>", and exits 1 when
# there is any, 0 otherwise.
set -euo pipefail

# layer -> the layers it may include besides itself (space-separated). A layer is a folder; a file's layer is
# the longest listed folder its path starts with.
declare -A RULES=(
    [storage]=""
    [server]="storage"
    [api]="api/common api/codec api/http api/ws api/rest server storage"
    [api/common]="server storage"
    [api/codec]="api/common server storage"
    [api/http]="api/common api/codec server storage"
    [api/ws]="api/common api/http api/codec server storage"
    [api/rest]="api/common api/http api/codec server storage"
)
EXCEPTIONS=" server/main.c "

layer_of() { # path relative to the root -> its layer, or nothing
    local p=$1 best=""
    for l in "${!RULES[@]}"; do
        [[ $p == "$l"/* && ${#l} -gt ${#best} ]] && best=$l
    done
    printf '%s' "$best"
}

check() { # root -> violations on stdout; status 1 when there are any
    local root=$1 bad=0 f rel from inc to n line
    while IFS= read -r f; do
        rel=${f#"$root"/}
        from=$(layer_of "$rel")
        [[ -z $from || $EXCEPTIONS == *" $rel "* ]] && continue
        while IFS=: read -r n line; do
            inc=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/' <<<"$line")
            to=$(layer_of "$inc")
            [[ -z $to || $to == "$from" || " ${RULES[$from]} " == *" $to "* ]] && continue
            echo "$rel:$n: includes $inc: $from may not include $to"
            bad=1
        done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$f" || true)
    done < <(find "$root/storage" "$root/server" "$root/api" -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)
    return $bad
}

self_test() {
    local t rc=0
    t=$(mktemp -d)
    trap 'rm -rf "$t"' RETURN
    mkdir -p "$t/storage" "$t/server" "$t/api/codec" "$t/api/rest"
    printf '#include "storage/a.h"\n' >"$t/server/b.c"
    printf '#include "api/rest/rest.h"\n#include "server/b.h"\n' >"$t/server/main.c"
    printf '#include "api/codec/c.h"\n#include "server/b.h"\n' >"$t/api/rest/r.c"
    check "$t" >/dev/null || { echo "self-test: a clean tree was refused"; rc=1; }
    printf '#include <stdio.h>\n  #  include "server/broker.h"\n' >"$t/storage/log.c"
    printf '#include "api/rest/r.h"\n' >"$t/api/codec/c.c"
    local out
    out=$(check "$t") && { echo "self-test: upward includes were not found"; rc=1; }
    [[ $out == *'storage/log.c:2: includes server/broker.h: storage may not include server'* ]] ||
        { echo "self-test: storage -> server not reported: $out"; rc=1; }
    [[ $out == *'api/codec/c.c:1: includes api/rest/r.h: api/codec may not include api/rest'* ]] ||
        { echo "self-test: api/codec -> api/rest not reported: $out"; rc=1; }
    [[ $rc == 0 ]] && echo "layers: self-test passed"
    return $rc
}

if [[ ${1:-} == --self-test ]]; then
    self_test
    exit
fi
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
if check "$root"; then
    echo "layers: no upward include in storage/, server/, api/"
else
    echo "layers: FAILED (see the lines above; the rules are at the top of tests/layers.sh)"
    exit 1
fi

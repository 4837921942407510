#!/bin/sh
# apply.sh: make GITOPS_TARGET match the declarative file desired.conf of the
# working copy (the current directory). Each line "name = content" declares
# one file GITOPS_TARGET/name holding content; files it no longer declares
# are removed. Every apply appends the commit it applied to .applied.log.
# The same step with real tools: `terraform apply -auto-approve` or
# `kubectl apply --prune -l app=web -f manifests/` (see docs/gitops.md).
set -eu
target=${GITOPS_TARGET:?set GITOPS_TARGET}
[ -n "${APPLY_DELAY:-}" ] && sleep "$APPLY_DELAY"
mkdir -p "$target"
keep=""
while IFS= read -r line || [ -n "$line" ]; do
	case "$line" in ''|'#'*) continue ;; esac
	name=$(printf '%s' "${line%%=*}" | tr -d ' ')
	value=$(printf '%s' "${line#*=}" | sed 's/^ *//')
	case "$name" in ''|*/*|.*) echo "skipping bad name '$name'" >&2; continue ;; esac
	printf '%s\n' "$value" > "$target/$name.tmp" && mv "$target/$name.tmp" "$target/$name"
	keep="$keep $name"
done < desired.conf
for f in "$target"/*; do
	[ -e "$f" ] || continue
	base=${f##*/}
	case " $keep " in *" $base "*) ;; *) rm -f "$f"; echo "removed $base" ;; esac
done
echo "$(git rev-parse HEAD)" >> "$target/.applied.log"
echo "applied $(git rev-parse --short HEAD):$keep"

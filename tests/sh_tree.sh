#!/usr/bin/env bash
# The tracked tree is clean: no merge conflict markers, no build outputs committed.
set -u
cd "$(dirname "$0")/.."
fail=0
if git rev-parse --git-dir > /dev/null 2>&1; then
    markers=$(git grep -nE '^(<<<<<<< |>>>>>>> )' -- . ':!tests/data' ':!tests/fuzz/corpus' || true)
    if [ -n "$markers" ]; then echo "merge conflict markers:"; echo "$markers"; fail=1; fi
    built=$(git ls-files -- 'build/*' 'lib/*.so*' 'lib/*.a' 'bin/*' '*.o' || true)
    if [ -n "$built" ]; then echo "build outputs in git:"; echo "$built"; fail=1; fi
fi
[ "$fail" -eq 0 ] && echo "sh_tree: no conflict markers, no build outputs tracked"
exit "$fail"

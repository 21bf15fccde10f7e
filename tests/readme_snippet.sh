#!/usr/bin/env bash
# Prints the README.md code block that follows the line "<!-- snippet: NAME -->" (c, cpp, python,
# http, rust, go), so that tests compile and run the README's examples as written.
#   bash tests/readme_snippet.sh NAME
set -eu
name=$1
awk -v name="$name" '
    $0 == "<!-- snippet: " name " -->" { want = 1; next }
    want == 1 && /^```/ { want = 2; next }
    want == 2 && /^```/ { found = 1; exit }
    want == 2 { print }
    END { if (!found) { print "README.md has no snippet " name > "/dev/stderr"; exit 1 } }
' "$(dirname "$0")/../README.md"

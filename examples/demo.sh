#!/usr/bin/env bash
# The main job of liblm (make demo). Until fine-tuning lands, it shows what is built.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "liblm demo"
bin/lm version
echo "built: $(ls lib/liblm.so.* lib/liblm.a | tr '\n' ' ')"

#!/usr/bin/env bash
# The code style check (run by .ci/run): the toolchain's `swift format lint` with the project's
# .swift-format on every Swift file in git but the generated code. `Scripts/lint.sh --fix`
# formats the files in place instead.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.swift' | grep -v '/Generated/')
if [ "${1:-}" = "--fix" ]; then
    swift format format --in-place --configuration .swift-format "${files[@]}"
else
    swift format lint --strict --configuration .swift-format "${files[@]}"
    echo "swift format lint: ${#files[@]} files clean"
fi

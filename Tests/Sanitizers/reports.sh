#!/bin/sh
# Ends a sanitizer run (make test-asan / test-tsan): prints every report that any process of the run wrote under
# DIR (the sanitizers' log_path), counts them, and fails when there is one or when the tests failed (STATUS).
# Usage: reports.sh DIR STATUS
dir=$1
status=$2
count=0
for f in "$dir"/*; do
  [ -f "$f" ] || continue
  cat "$f"
  n=$(grep -c -E '^WARNING: ThreadSanitizer|^==[0-9]+==ERROR: (Address|Leak)Sanitizer' "$f")
  count=$((count + n))
done
echo "sanitizer reports: $count (files in $dir)"
if [ "$count" -gt 0 ] || [ -n "$(ls -A "$dir")" ]; then
  echo "FAILED: the sanitizer reported the problems above"
  exit 1
fi
if [ "$status" != 0 ]; then
  echo "FAILED: swift test exited $status"
  exit "$status"
fi
echo "passed with no sanitizer report"

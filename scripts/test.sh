#!/usr/bin/env bash
# The README's test command: install what the tests need, then run them all (browser tests too).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m browser` or `-m "not browser"`.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet -r requirements-dev.txt

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used),
# and the Chinese page needs a CJK font to be readable in screenshots.
missing=()
if [ -z "${CHROMIUM_PATH:-}" ] && ! [ -x /usr/bin/chromium ]; then
    missing+=(chromium fonts-dejavu-core)
fi
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    missing+=(fonts-wqy-microhei)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]} for the browser tests..."
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Two workers (PYTEST_WORKERS to change, 0 for one process): most tests wait on a simulated
# task or a browser, so two processes finish the suite in far less time even on two cores.
# Whole files go to one worker: a file's app, simulator and browser are started once.
exec python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"

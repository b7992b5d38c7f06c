#!/usr/bin/env bash
# The README's test command: install what the tests need, then run them all (browser tests too).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m browser` or `-m "not browser"`.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet -r requirements-dev.txt

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
if [ -z "${CHROMIUM_PATH:-}" ] && ! [ -x /usr/bin/chromium ]; then
    echo "Installing Debian's chromium for the browser tests..."
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi

exec python -m pytest "$@"

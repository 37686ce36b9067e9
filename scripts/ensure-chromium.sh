#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through Playwright; install it when missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
  echo "The browser tests need Chromium: install Debian's 'chromium' package (apt-get install chromium)." >&2
  exit 1
fi
echo "Installing Chromium for the browser tests..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null

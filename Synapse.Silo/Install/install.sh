#!/usr/bin/env bash
# Synapse agent installer, served by the gateway at /run:
#   curl -fsSL http://<gateway>/run | bash -s -- --upstream http://127.0.0.1:8000 --ws-auth-key '<key>'
# Installs (or updates) $HOME/.local/bin/synapse-client, then runs it against the gateway it came from. Arguments
# after "bash -s --" go to the agent and may override anything, --server-url included.
set -euo pipefail

SYNAPSE_GATEWAY='{{GATEWAY}}'
SYNAPSE_SERVER_URL='{{SERVER_URL}}'
SYNAPSE_VERSION='{{VERSION}}'
SYNAPSE_PLATFORMS='{{PLATFORMS}}'
install_dir="${SYNAPSE_INSTALL_DIR:-$HOME/.local/bin}"
target="$install_dir/synapse-client"

say() { printf 'synapse: %s\n' "$*" >&2; }
fail() { printf 'synapse: error: %s\n' "$*" >&2; exit 1; }

case "$(uname -s)" in
  Linux) os=linux ;;
  *) fail "unsupported operating system '$(uname -s)'; the agent runs on Linux" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) fail "unsupported architecture '$(uname -m)'; x86_64 and aarch64 are supported" ;;
esac

# The agent is a native binary: it needs glibc 2.34 or newer and OpenSSL's libssl (even for plain ws:// and http://).
if command -v ldd >/dev/null 2>&1; then
  glibc="$(ldd --version 2>/dev/null | head -n 1 | grep -oE '[0-9]+\.[0-9]+$' || true)"
  if [ -n "$glibc" ] && [ "$(printf '%s\n2.34\n' "$glibc" | sort -V | head -n 1)" != "2.34" ]; then
    say "warning: glibc $glibc is older than 2.34; the agent may not start (Debian 12, Ubuntu 22.04 or RHEL 9 and newer work)"
  fi
fi
if command -v ldconfig >/dev/null 2>&1 && ! ldconfig -p 2>/dev/null | grep -qE 'libssl\.so\.(3|1\.1)'; then
  say "warning: OpenSSL's libssl was not found; install it (apt-get install libssl3, dnf install openssl-libs) if the agent fails to start"
fi

installed=""
if [ -x "$target" ]; then
  installed="$("$target" --version 2>/dev/null || true)"
fi

if [ "$installed" = "$SYNAPSE_VERSION" ]; then
  say "synapse-client $SYNAPSE_VERSION is already installed at $target"
else
  if [ -n "$installed" ]; then
    say "updating synapse-client $installed to $SYNAPSE_VERSION"
  else
    say "installing synapse-client $SYNAPSE_VERSION ($os-$arch) to $target"
  fi
  case " $SYNAPSE_PLATFORMS " in
    *" $os-$arch "*) ;;
    *) fail "this gateway has no agent for $os-$arch (it has: $SYNAPSE_PLATFORMS); on the gateway, run make all RID=$os-$arch in the Synapse checkout, or give --client-binary a folder holding $os-$arch/synapse-client" ;;
  esac
  mkdir -p "$install_dir"
  tmp="$(mktemp "$install_dir/.synapse-client.XXXXXX")"
  trap 'rm -f "$tmp"' EXIT
  url="$SYNAPSE_GATEWAY/getclient?os=$os&arch=$arch"
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$tmp" "$url" || fail "could not download $url"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$tmp" "$url" || fail "could not download $url"
  else
    fail "neither curl nor wget is installed"
  fi
  chmod 0755 "$tmp"
  got="$("$tmp" --version 2>/dev/null || true)"
  if [ "$got" != "$SYNAPSE_VERSION" ]; then
    fail "the downloaded agent does not run on this machine (it printed '${got:-nothing}', expected $SYNAPSE_VERSION)"
  fi
  mv -f "$tmp" "$target"
  trap - EXIT
  say "installed $target"
fi

say "starting synapse-client against $SYNAPSE_SERVER_URL"
exec "$target" --server-url "$SYNAPSE_SERVER_URL" --self-update "$@"

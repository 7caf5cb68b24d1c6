#!/bin/sh
# Seedwave @VERSION@ for Linux: one self-extracting file (a shell header followed
# by a .tar.gz of the standalone build). Python is not needed.
#
#   ./@NAME@.run [FILES...]     start Seedwave (unpacks once, then starts at once)
#   ./@NAME@.run --install      install for this user: command, menu entry, icons,
#                               file types (see install.sh --help for options)
#   ./@NAME@.run --uninstall    remove what --install added
#   ./@NAME@.run --extract DIR  only unpack into DIR
set -e
NAME=@NAME@
SKIP=@SKIP@
SELF=$0
payload() { tail -n +"$SKIP" "$SELF"; }
RUNTIME=${XDG_DATA_HOME:-$HOME/.local/share}/seedwave/runtime

case "${1:-}" in
  --install|--uninstall)
    # Unpack next to the usual install place (often not a RAM-backed /tmp), then move into place.
    mkdir -p "$RUNTIME"
    tmp=$(mktemp -d "$RUNTIME/.install.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    payload | tar -xzf - -C "$tmp"
    SEEDWAVE_INSTALL_MOVE=1 "$tmp/$NAME/install.sh" "$@"
    exit $?
    ;;
  --extract)
    dest=${2:-.}
    mkdir -p "$dest"
    payload | tar -xzf - -C "$dest"
    echo "$dest/$NAME"
    exit 0
    ;;
esac

DIR=$RUNTIME/$NAME
if [ ! -x "$DIR/seedwave/seedwave" ]; then
  echo "Seedwave: unpacking into $DIR (first start only)..." >&2
  mkdir -p "$RUNTIME"
  tmp=$(mktemp -d "$RUNTIME/.unpack.XXXXXX")
  payload | tar -xzf - -C "$tmp"
  # Another start may have finished first: keep whichever copy landed.
  mv -T "$tmp/$NAME" "$DIR" 2>/dev/null || true
  rm -rf "$tmp"
fi
exec "$DIR/seedwave/seedwave" "$@"
# The archive follows this line.

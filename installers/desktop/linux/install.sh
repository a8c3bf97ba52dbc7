#!/bin/sh
# Install the photodesk Linux bundle from this unpacked tarball, for you (default) or everyone:
#   ./install.sh            -> ~/.local/opt/photodesk, ~/.local/bin/photodesk, menu entry and icon
#   sudo ./install.sh --system  -> /opt/photodesk, /usr/local/bin/photodesk, system menu entry
#   ./install.sh --uninstall [--system]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
APP_ID=org.photodesk.Photodesk
MODE=user
ACTION=install
for arg in "$@"; do
    case "$arg" in
        --system) MODE=system ;;
        --uninstall) ACTION=uninstall ;;
        *) echo "install.sh: unknown option $arg (use --system, --uninstall)" >&2; exit 2 ;;
    esac
done
if [ "$MODE" = system ]; then
    OPT=/opt/photodesk BIN=/usr/local/bin SHARE=/usr/local/share
else
    OPT=$HOME/.local/opt/photodesk BIN=$HOME/.local/bin SHARE=${XDG_DATA_HOME:-$HOME/.local/share}
fi

if [ "$ACTION" = uninstall ]; then
    rm -rf "$OPT" "$BIN/photodesk" "$SHARE/applications/$APP_ID.desktop" \
        "$SHARE/metainfo/$APP_ID.metainfo.xml"
    find "$SHARE/icons/hicolor" -name "$APP_ID.*" -delete 2>/dev/null || true
    echo "photodesk removed (your libraries are untouched)"
    exit 0
fi

mkdir -p "$OPT" "$BIN" "$SHARE/applications" "$SHARE/metainfo"
rm -rf "$OPT"
cp -a "$HERE/photodesk" "$OPT"
ln -sf "$OPT/photodesk" "$BIN/photodesk"
cp -a "$HERE/share/icons" "$SHARE/"
sed "s|^Exec=photodesk|Exec=$OPT/photodesk|; s|^TryExec=photodesk|TryExec=$OPT/photodesk|" \
    "$HERE/share/applications/$APP_ID.desktop" > "$SHARE/applications/$APP_ID.desktop"
cp "$HERE/share/metainfo/$APP_ID.metainfo.xml" "$SHARE/metainfo/"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$SHARE/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" || true
echo "photodesk $("$OPT/photodesk" --version | cut -d' ' -f2) installed in $OPT ($BIN/photodesk, menu entry)"

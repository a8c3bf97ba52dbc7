#!/bin/sh
# Install photodesk as a systemd service: a `photodesk` system user, a virtualenv in /opt/photodesk,
# the unit, /etc/photodesk/photodesk.env and the library and upload folders. Run as root:
#
#   sudo installers/systemd/install.sh                       # photodesk[server,ml,faces] from PyPI
#   sudo installers/systemd/install.sh dist/photodesk-*.whl  # a wheel built with `make wheel`
#
# Environment: PREFIX (/opt/photodesk), STATE (/var/lib/photodesk), PYTHON (python3),
# EXTRAS (server,ml,faces; add gpu for onnxruntime-gpu), NO_START=1 to install without starting.
set -eu

PREFIX=${PREFIX:-/opt/photodesk}
STATE=${STATE:-/var/lib/photodesk}
PYTHON=${PYTHON:-python3}
EXTRAS=${EXTRAS:-server,ml,faces}
HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE=${1:-photodesk}

if [ "$(id -u)" != 0 ]; then
    echo "install.sh: run as root (sudo $0 $*)" >&2
    exit 1
fi
command -v systemctl >/dev/null 2>&1 || { echo "install.sh: systemd (systemctl) not found" >&2; exit 1; }
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "install.sh: photodesk needs Python >= 3.11 ($PYTHON is older; set PYTHON=)" >&2
    exit 1
}

# 1. The user the daemon runs as: no login, no home outside its state folder.
if ! id photodesk >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$STATE" --no-create-home \
        --shell /usr/sbin/nologin --comment "photodesk server" photodesk
fi

# 2. The program, in its own virtualenv.
if [ ! -x "$PREFIX/venv/bin/python" ]; then
    "$PYTHON" -m venv "$PREFIX/venv"
fi
"$PREFIX/venv/bin/python" -m pip install --quiet --upgrade pip
case "$SOURCE" in
    *.whl) "$PREFIX/venv/bin/python" -m pip install --quiet "$SOURCE[$EXTRAS]" ;;
    *) "$PREFIX/venv/bin/python" -m pip install --quiet --upgrade "$SOURCE[$EXTRAS]" ;;
esac
mkdir -p "$PREFIX/bin"
ln -sf "$PREFIX/venv/bin/photodesk" "$PREFIX/bin/photodesk"

# 3. Folders: the library (catalog, thumbnails, models) and the upload root.
install -d -m 0750 -o photodesk -g photodesk "$STATE" "$STATE/library" "$STATE/uploads"
install -d -m 0755 /etc/photodesk
if [ ! -e /etc/photodesk/photodesk.env ]; then
    install -m 0640 -g photodesk "$HERE/photodesk.env" /etc/photodesk/photodesk.env
fi

# 4. The unit (with this PREFIX and STATE), then start it.
sed -e "s|/opt/photodesk|$PREFIX|g" -e "s|/var/lib/photodesk|$STATE|g" \
    "$HERE/photodesk.service" > /etc/systemd/system/photodesk.service
if command -v systemd-analyze >/dev/null 2>&1; then
    systemd-analyze verify /etc/systemd/system/photodesk.service
fi
systemctl daemon-reload
if [ "${NO_START:-0}" = 1 ]; then
    systemctl enable photodesk.service
else
    systemctl enable --now photodesk.service
fi

cat <<DONE
photodesk is installed ($("$PREFIX/bin/photodesk" --version)).
  settings:  /etc/photodesk/photodesk.env   then: systemctl restart photodesk
  logs:      journalctl -u photodesk -f
  first admin:
    sudo -u photodesk env PHOTODESK_LIBRARY=$STATE/library $PREFIX/bin/photodesk users add you@example.org --admin
DONE

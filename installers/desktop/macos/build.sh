#!/bin/sh
# Build the macOS app and its disk image (run from the repository root, on a Mac):
#   installers/desktop/macos/build.sh
# Output: dist/photodesk.app and dist/photodesk-<version>-macos-<arch>.dmg. ML uses Apple's
# CoreML execution provider of the standard onnxruntime wheel (PHOTODESK_ML_PROVIDERS=coreml,cpu).
# Signed and notarized only when the keys exist:
#   MACOS_SIGN_IDENTITY="Developer ID Application: Name (TEAMID)"
#   MACOS_NOTARY_PROFILE=<a `xcrun notarytool store-credentials` profile>
set -eu
python3 -m venv .venv-bundle
.venv-bundle/bin/python -m pip install --upgrade pip
.venv-bundle/bin/python -m pip install '.[ml,faces,server,bundle]'
.venv-bundle/bin/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller \
    installers/desktop/photodesk.spec
VERSION=$(.venv-bundle/bin/python -c 'import photodesk; print(photodesk.__version__)')
APP=dist/photodesk.app
"$APP/Contents/MacOS/photodesk" --version

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    codesign --force --deep --options runtime --timestamp \
        --entitlements installers/desktop/macos/entitlements.plist \
        --sign "$MACOS_SIGN_IDENTITY" "$APP"
    codesign --verify --deep --strict "$APP"
else
    echo "build.sh: MACOS_SIGN_IDENTITY not set: the app is not signed (Gatekeeper will warn)"
fi

DMG="dist/photodesk-$VERSION-macos-$(uname -m).dmg"
rm -f "$DMG"
STAGE=$(mktemp -d)
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "photodesk $VERSION" -srcfolder "$STAGE" -ov -format UDZO "$DMG"
rm -rf "$STAGE"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    codesign --sign "$MACOS_SIGN_IDENTITY" --timestamp "$DMG"
    if [ -n "${MACOS_NOTARY_PROFILE:-}" ]; then
        xcrun notarytool submit "$DMG" --keychain-profile "$MACOS_NOTARY_PROFILE" --wait
        xcrun stapler staple "$DMG"
    fi
fi
echo "build.sh: $DMG"

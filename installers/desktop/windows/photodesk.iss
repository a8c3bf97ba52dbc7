; Inno Setup script for the Windows installer; build.ps1 runs it after PyInstaller.
; iscc /DAppVersion=0.1.0 installers\desktop\windows\photodesk.iss  (paths relative to this file)
#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif

[Setup]
AppId={{6F0E7B1E-3C5A-4B8E-9D2F-70686F746F64}
AppName=photodesk
AppVersion={#AppVersion}
AppPublisher=The photodesk developers
AppPublisherURL=https://github.com/photodesk/photodesk
DefaultDirName={autopf}\photodesk
DefaultGroupName=photodesk
PrivilegesRequiredOverridesAllowed=dialog
OutputDir=..\..\..\dist
OutputBaseFilename=photodesk-{#AppVersion}-windows-setup
SetupIconFile=..\..\..\resources\icons\photodesk.ico
UninstallDisplayIcon={app}\photodesk.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\..\..\dist\photodesk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\photodesk"; Filename: "{app}\photodesk.exe"; Parameters: "gui"; IconFilename: "{app}\photodesk.exe"
Name: "{autodesktop}\photodesk"; Filename: "{app}\photodesk.exe"; Parameters: "gui"; Tasks: desktopicon

[Run]
Filename: "{app}\photodesk.exe"; Parameters: "gui"; Description: "{cm:LaunchProgram,photodesk}"; Flags: nowait postinstall skipifsilent runasoriginaluser

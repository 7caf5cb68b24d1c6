; Inno Setup script for the Seedwave installer (run by build_windows.ps1):
;   iscc /DAppVersion=0.1.0 /DSourceDir=..\..\dist\Seedwave /O..\..\dist seedwave.iss
; Installs per user (no administrator rights needed), adds a Start menu entry, registers
; .seedwave projects (with their icon) and offers Seedwave in "Open with" for audio files.
#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\Seedwave"
#endif

[Setup]
AppId={{8E4A5C2D-6B1F-4C8E-9A57-3D2F0B6E1A94}
AppName=Seedwave
AppVersion={#AppVersion}
AppPublisher=Seedwave
DefaultDirName={autopf}\Seedwave
DefaultGroupName=Seedwave
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=Seedwave-{#AppVersion}-windows-x64
SetupIconFile=..\icons\seedwave.ico
UninstallDisplayIcon={app}\Seedwave.exe
Compression=lzma2/max
SolidCompression=yes
ChangesAssociations=yes
WizardStyle=modern

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\Seedwave"; Filename: "{app}\Seedwave.exe"
Name: "{userdesktop}\Seedwave"; Filename: "{app}\Seedwave.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Registry]
; Seedwave projects open in Seedwave.
Root: HKA; Subkey: "Software\Classes\.seedwave"; ValueType: string; ValueName: ""; ValueData: "Seedwave.Project"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\Seedwave.Project"; ValueType: string; ValueName: ""; ValueData: "Seedwave project"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Seedwave.Project\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\Seedwave.exe,0"
Root: HKA; Subkey: "Software\Classes\Seedwave.Project\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\Seedwave.exe"" ""%1"""
; Audio files: Seedwave appears under "Open with", without taking over the default player.
Root: HKA; Subkey: "Software\Classes\Seedwave.Audio"; ValueType: string; ValueName: ""; ValueData: "Audio file"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Seedwave.Audio\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\Seedwave.exe"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\Seedwave.exe\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\Seedwave.exe"" ""%1"""; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\Seedwave.exe\SupportedTypes"; ValueType: string; ValueName: ".wav"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\Seedwave.exe\SupportedTypes"; ValueType: string; ValueName: ".flac"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\Seedwave.exe\SupportedTypes"; ValueType: string; ValueName: ".mp3"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\Seedwave.exe\SupportedTypes"; ValueType: string; ValueName: ".ogg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\Seedwave.exe\SupportedTypes"; ValueType: string; ValueName: ".oga"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\Seedwave.exe\SupportedTypes"; ValueType: string; ValueName: ".opus"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\Seedwave.exe\SupportedTypes"; ValueType: string; ValueName: ".aiff"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\Seedwave.exe\SupportedTypes"; ValueType: string; ValueName: ".aif"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\Seedwave.exe\SupportedTypes"; ValueType: string; ValueName: ".aifc"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\Seedwave.exe\SupportedTypes"; ValueType: string; ValueName: ".caf"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\Seedwave.exe\SupportedTypes"; ValueType: string; ValueName: ".w64"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\Seedwave.exe\SupportedTypes"; ValueType: string; ValueName: ".rf64"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\Seedwave.exe\SupportedTypes"; ValueType: string; ValueName: ".au"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\.wav\OpenWithProgids"; ValueType: string; ValueName: "Seedwave.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.flac\OpenWithProgids"; ValueType: string; ValueName: "Seedwave.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.mp3\OpenWithProgids"; ValueType: string; ValueName: "Seedwave.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.ogg\OpenWithProgids"; ValueType: string; ValueName: "Seedwave.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.oga\OpenWithProgids"; ValueType: string; ValueName: "Seedwave.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.opus\OpenWithProgids"; ValueType: string; ValueName: "Seedwave.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.aiff\OpenWithProgids"; ValueType: string; ValueName: "Seedwave.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.aif\OpenWithProgids"; ValueType: string; ValueName: "Seedwave.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.aifc\OpenWithProgids"; ValueType: string; ValueName: "Seedwave.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.caf\OpenWithProgids"; ValueType: string; ValueName: "Seedwave.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.w64\OpenWithProgids"; ValueType: string; ValueName: "Seedwave.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.rf64\OpenWithProgids"; ValueType: string; ValueName: "Seedwave.Audio"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.au\OpenWithProgids"; ValueType: string; ValueName: "Seedwave.Audio"; ValueData: ""; Flags: uninsdeletevalue

[Run]
Filename: "{app}\Seedwave.exe"; Description: "Start Seedwave"; Flags: nowait postinstall skipifsilent

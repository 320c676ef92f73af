; Inno Setup 6 script for gptimg-desktop: installs the PyInstaller one-folder build and registers it under
; "Open with" for PNG, JPEG and WebP without taking over the default app. See README.md in this folder.
; Compile on Windows after the build:  iscc packaging\windows\gptimg-desktop.iss

#define AppExe "gptimg-desktop.exe"
#define BuildDir "..\..\dist\gptimg-desktop"
; The version comes from the exe's version resource, which the spec fills in from pyproject.toml.
#define AppVersion GetStringFileInfo(BuildDir + "\" + AppExe, "ProductVersion")
#define ProgId "gptimg-desktop.image"

[Setup]
; Keep this AppId forever: upgrades and the uninstaller find the installed app by it.
AppId={{BFCE19C2-EAF3-43C5-AF87-92193CEF5590}
AppName=gptimg-desktop
AppVersion={#AppVersion}
AppVerName=gptimg-desktop {#AppVersion}
AppPublisher=The gptimg-desktop developers
DefaultDirName={autopf}\gptimg-desktop
DisableProgramGroupPage=yes
; Per-user by default (no admin prompt); the user may choose "all users" in the dialog.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
ChangesAssociations=yes
SetupIconFile=..\..\resources\icons\app.ico
UninstallDisplayIcon={app}\{#AppExe}
OutputDir=..\..\dist\installer
OutputBaseFilename=gptimg-desktop-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#BuildDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\gptimg-desktop"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\gptimg-desktop"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; A ProgID that opens an image with the app...
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "Image (gptimg-desktop)"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; ...offered under "Open with" for each type (OpenWithProgids adds a choice; it never changes the default).
Root: HKA; Subkey: "Software\Classes\.png\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.jpg\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.jpeg\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.webp\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
; The app's own entry, so "Choose another app" lists it with its name for exactly these types.
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "gptimg-desktop"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".png"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".jpg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".jpeg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".webp"; ValueData: ""

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,gptimg-desktop}"; Flags: nowait postinstall skipifsilent

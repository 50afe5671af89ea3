; Inno Setup 6 script: the Windows installer around the PyInstaller folder.
;
;   pyinstaller --noconfirm packaging\kefu-assistant.spec          -> dist\kefu-assistant\
;   iscc /DAppVersion=0.1.0 packaging\windows\kefu.iss              -> dist\kefu-assistant-0.1.0-setup.exe
;
; NOT TESTED HERE: the project's machines run Linux. packaging/windows/build-windows.yml builds
; and smoke-tests it on a GitHub Actions Windows runner.
;
; Per-user install (no administrator needed; an agent's PC is often locked down):
;   program      %LOCALAPPDATA%\Programs\kefu-assistant  (kefu-assistant.exe = panel, kefu.exe = command line)
;   start menu   客服助手
;   autostart    optional task: a shortcut in the user's Startup folder
;   data         %LOCALAPPDATA%\kefu-assistant (database, backups, logs) is never written by the
;                installer and is NOT removed on uninstall: replies and buyers survive a reinstall.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\kefu-assistant"
#endif
#define ZhIsl AddBackslash(CompilerPath) + "Languages\ChineseSimplified.isl"

[Setup]
; Never change AppId: upgrades and the uninstaller find the installed copy by it.
AppId={{6F1C2A8E-4B7D-4E0C-9A35-2D8E5C1B7F40}
AppName=客服助手 kefu-assistant
AppVersion={#AppVersion}
AppPublisher=kefu-assistant
AppVerName=客服助手 kefu-assistant {#AppVersion}
DefaultDirName={autopf}\kefu-assistant
DefaultGroupName=客服助手
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=kefu-assistant-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\app.ico
UninstallDisplayIcon={app}\kefu-assistant.exe
UninstallDisplayName=客服助手 kefu-assistant
LicenseFile=..\LICENSE
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
; A running panel holds its files open: ask to close it before files are replaced or removed.
CloseApplications=yes
RestartApplications=no

[Languages]
#if FileExists(ZhIsl)
Name: "chinesesimplified"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
#endif
Name: "english"; MessagesFile: "compiler:Default.isl"

[CustomMessages]
english.AutostartTask=Start the panel when I log in to Windows
english.DesktopTask=Create a desktop shortcut
english.LaunchNow=Start kefu-assistant now
#if FileExists(ZhIsl)
chinesesimplified.AutostartTask=登录 Windows 时自动启动客服助手
chinesesimplified.DesktopTask=创建桌面快捷方式
chinesesimplified.LaunchNow=立即启动客服助手
#endif

[Tasks]
Name: "autostart"; Description: "{cm:AutostartTask}"; Flags: unchecked
Name: "desktopicon"; Description: "{cm:DesktopTask}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; files of an older version that this one no longer ships (the folder is replaced as a whole)
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\客服助手"; Filename: "{app}\kefu-assistant.exe"; WorkingDir: "{app}"
Name: "{userstartup}\客服助手"; Filename: "{app}\kefu-assistant.exe"; WorkingDir: "{app}"; Tasks: autostart
Name: "{autodesktop}\客服助手"; Filename: "{app}\kefu-assistant.exe"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\kefu-assistant.exe"; Description: "{cm:LaunchNow}"; Flags: nowait postinstall skipifsilent

; No [UninstallDelete] entry for %LOCALAPPDATA%\kefu-assistant: the uninstaller removes only what
; it installed ({app}, the shortcuts), so the agent's data stays.

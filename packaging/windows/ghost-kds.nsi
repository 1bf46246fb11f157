; ghost-kds for Windows: the edge agent (a service through WinSW) and the kitchen
; display, from the PyInstaller one-dir bundles built on a Windows machine
; (docs/windows.md). NSIS 3 (Debian's `nsis`: makensis compiles it on Linux too).
;
;   makensis -DVERSION=0.1.0 -DPAYLOAD=<dir> -DOUTFILE=<exe> packaging/windows/ghost-kds.nsi
;
; PAYLOAD holds edge-agent\ (edge-agent.exe and its bundle), kitchen-display\
; (kitchen-display.exe and its bundle) and winsw.exe (WinSW-x64.exe, sha256-checked).
;
; Silent install for fleets:   ghost-kds-setup-0.1.0.exe /S [/COMPONENTS=agent|display|both]
;                              [/D=C:\Program Files\ghost-kds]   (/D last, no quotes)
; Silent uninstall:            "C:\Program Files\ghost-kds\uninstall.exe" /S [/PURGE]
; The uninstaller stops and removes the service; it keeps %ProgramData%\ghost-kds
; (config, secrets, the database, logs) unless /PURGE is given or the admin says so.

Unicode true
!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef PAYLOAD
  !error "define PAYLOAD: makensis -DPAYLOAD=<dir with edge-agent\, kitchen-display\, winsw.exe>"
!endif
!ifndef OUTFILE
  !define OUTFILE "ghost-kds-setup-${VERSION}.exe"
!endif

!define PRODUCT "ghost-kds"
!define SERVICE "ghost-kds-edge-agent"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCT}"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "Sections.nsh"
!include "x64.nsh"

Name "${PRODUCT} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${PRODUCT}"
InstallDirRegKey HKLM "Software\${PRODUCT}" "InstallDir"
RequestExecutionLevel admin
SetCompressor /SOLID lzma
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${PRODUCT} kitchen display system installer"
VIAddVersionKey "LegalCopyright" "the ghost-kds team"

!define MUI_ABORTWARNING
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "Dutch"

InstType "Both (agent and display)"
InstType "Edge agent only"
InstType "Kitchen display only"

Var DataDir

Section "Edge agent (Windows service)" SecAgent
  SectionIn 1 2
  SetShellVarContext all
  ; a running agent (an upgrade): stop it before its files are replaced
  ${If} ${FileExists} "$INSTDIR\edge-agent\${SERVICE}.exe"
    nsExec::ExecToLog '"$INSTDIR\edge-agent\${SERVICE}.exe" stop'
    Pop $0
  ${EndIf}
  SetOutPath "$INSTDIR\edge-agent"
  File /r "${PAYLOAD}\edge-agent\*.*"
  File "/oname=${SERVICE}.exe" "${PAYLOAD}\winsw.exe"
  File "/oname=${SERVICE}.xml" "edge-agent-service.xml"
  ; config, secrets, state and logs: %ProgramData%\ghost-kds, writable by the service
  ; account (LocalService, S-1-5-19) and the Administrators only
  CreateDirectory "$DataDir"
  CreateDirectory "$DataDir\logs"
  nsExec::ExecToLog 'icacls "$DataDir" /inheritance:r /grant:r "*S-1-5-32-544:(OI)(CI)F" "*S-1-5-18:(OI)(CI)F" "*S-1-5-19:(OI)(CI)M"'
  Pop $0
  SetOutPath "$DataDir"
  File "/oname=agent.example.toml" "..\config\agent.example.toml"
  ; install the service once; an upgrade keeps the registered one
  ReadRegStr $1 HKLM "SYSTEM\CurrentControlSet\Services\${SERVICE}" "ImagePath"
  ${If} $1 == ""
    nsExec::ExecToLog '"$INSTDIR\edge-agent\${SERVICE}.exe" install'
    Pop $0
  ${EndIf}
  ${If} ${FileExists} "$DataDir\agent.toml"
    nsExec::ExecToLog '"$INSTDIR\edge-agent\${SERVICE}.exe" start'
    Pop $0
  ${Else}
    DetailPrint "Not started: no $DataDir\agent.toml yet. Next: edge-agent setup, then start the service."
  ${EndIf}
SectionEnd

Section "Kitchen display" SecDisplay
  SectionIn 1 3
  SetShellVarContext all
  SetOutPath "$INSTDIR\kitchen-display"
  File /r "${PAYLOAD}\kitchen-display\*.*"
  CreateDirectory "$DataDir"
  SetOutPath "$DataDir"
  File "/oname=display.example.toml" "..\config\display.example.toml"
  SetOutPath "$INSTDIR\kitchen-display"
  CreateDirectory "$SMPROGRAMS\${PRODUCT}"
  CreateShortcut "$SMPROGRAMS\${PRODUCT}\Kitchen Display.lnk" \
    "$INSTDIR\kitchen-display\kitchen-display.exe" '--config "$DataDir\display.toml"'
  CreateShortcut "$DESKTOP\Kitchen Display.lnk" \
    "$INSTDIR\kitchen-display\kitchen-display.exe" '--config "$DataDir\display.toml"'
SectionEnd

Section "-common"
  SetShellVarContext all
  SetOutPath "$INSTDIR"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateDirectory "$SMPROGRAMS\${PRODUCT}"
  CreateShortcut "$SMPROGRAMS\${PRODUCT}\Uninstall ${PRODUCT}.lnk" "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "Software\${PRODUCT}" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "Software\${PRODUCT}" "Version" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "the ghost-kds team"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
SectionEnd

LangString DESC_Agent ${LANG_ENGLISH} "The site's edge agent, as the Windows service ${SERVICE}."
LangString DESC_Agent ${LANG_DUTCH} "De edge agent van de vestiging, als Windows-service ${SERVICE}."
LangString DESC_Display ${LANG_ENGLISH} "The kitchen display, with Start-menu and desktop shortcuts."
LangString DESC_Display ${LANG_DUTCH} "Het keukenscherm, met snelkoppelingen in het Startmenu en op het bureaublad."
!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAgent} $(DESC_Agent)
  !insertmacro MUI_DESCRIPTION_TEXT ${SecDisplay} $(DESC_Display)
!insertmacro MUI_FUNCTION_DESCRIPTION_END

Function .onInit
  SetShellVarContext all
  StrCpy $DataDir "$APPDATA\${PRODUCT}"
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "${PRODUCT} needs 64-bit Windows." /SD IDOK
    Abort
  ${EndIf}
  SetRegView 64
  ; /COMPONENTS=agent|display|both (silent fleet installs; default both)
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/COMPONENTS=" $R1
  ${IfNot} ${Errors}
    ${If} $R1 == "agent"
      SetCurInstType 1
      !insertmacro UnselectSection ${SecDisplay}
    ${ElseIf} $R1 == "display"
      SetCurInstType 2
      !insertmacro UnselectSection ${SecAgent}
    ${ElseIf} $R1 != "both"
      MessageBox MB_ICONSTOP "/COMPONENTS= takes agent, display or both, not '$R1'." /SD IDOK
      SetErrorLevel 2
      Quit
    ${EndIf}
  ${EndIf}
FunctionEnd

Function un.onInit
  SetShellVarContext all
  StrCpy $DataDir "$APPDATA\${PRODUCT}"
  SetRegView 64
FunctionEnd

Section "Uninstall"
  SetShellVarContext all
  ; the service first: stopped, then unregistered, then its files go
  ${If} ${FileExists} "$INSTDIR\edge-agent\${SERVICE}.exe"
    nsExec::ExecToLog '"$INSTDIR\edge-agent\${SERVICE}.exe" stop'
    Pop $0
    nsExec::ExecToLog '"$INSTDIR\edge-agent\${SERVICE}.exe" uninstall'
    Pop $0
  ${EndIf}
  RMDir /r "$INSTDIR\edge-agent"
  RMDir /r "$INSTDIR\kitchen-display"
  Delete "$DESKTOP\Kitchen Display.lnk"
  RMDir /r "$SMPROGRAMS\${PRODUCT}"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINST_KEY}"
  DeleteRegKey HKLM "Software\${PRODUCT}"
  ; config, secrets, the database and logs stay, unless /PURGE or the admin asks
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE" $R1
  ${IfNot} ${Errors}
    RMDir /r "$DataDir"
  ${ElseIfNot} ${Silent}
    MessageBox MB_YESNO|MB_DEFBUTTON2|MB_ICONQUESTION \
      "Also delete the configuration, the secrets and the order database in $DataDir?" \
      IDNO keep
    RMDir /r "$DataDir"
    keep:
  ${EndIf}
SectionEnd

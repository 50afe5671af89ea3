"""The few user32/kernel32/advapi32 calls the Windows backend needs, through ctypes.

Imported only on Windows (create() in backend.py); tests use a fake with the same methods.
"""

from __future__ import annotations

import ctypes
import itertools
from ctypes import wintypes

PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
TOKEN_QUERY = 0x0008
TOKEN_INTEGRITY_LEVEL = 25
UOI_NAME = 2
ERROR_HOTKEY_ALREADY_REGISTERED = 1409
SW_RESTORE = 9
VK_MENU = 0x12
KEYEVENTF_KEYUP = 0x2


class _SidAndAttributes(ctypes.Structure):
    _fields_ = [("Sid", ctypes.c_void_p), ("Attributes", wintypes.DWORD)]


class Win32Api:
    def __init__(self) -> None:
        self.user32 = ctypes.WinDLL("user32", use_last_error=True)
        self.kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        self.advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
        u, k, a = self.user32, self.kernel32, self.advapi32
        u.GetForegroundWindow.restype = wintypes.HWND
        u.GetWindowThreadProcessId.argtypes = [wintypes.HWND, ctypes.POINTER(wintypes.DWORD)]
        u.GetWindowThreadProcessId.restype = wintypes.DWORD
        u.GetWindowTextW.argtypes = [wintypes.HWND, wintypes.LPWSTR, ctypes.c_int]
        u.GetClassNameW.argtypes = [wintypes.HWND, wintypes.LPWSTR, ctypes.c_int]
        u.IsWindow.argtypes = [wintypes.HWND]
        u.SetForegroundWindow.argtypes = [wintypes.HWND]
        u.ShowWindow.argtypes = [wintypes.HWND, ctypes.c_int]
        u.IsIconic.argtypes = [wintypes.HWND]
        u.RegisterHotKey.argtypes = [wintypes.HWND, ctypes.c_int, wintypes.UINT, wintypes.UINT]
        u.UnregisterHotKey.argtypes = [wintypes.HWND, ctypes.c_int]
        u.OpenInputDesktop.restype = wintypes.HANDLE
        u.OpenInputDesktop.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
        u.GetUserObjectInformationW.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD,
                                                ctypes.POINTER(wintypes.DWORD)]
        u.CloseDesktop.argtypes = [wintypes.HANDLE]
        u.keybd_event.argtypes = [wintypes.BYTE, wintypes.BYTE, wintypes.DWORD, ctypes.c_void_p]
        k.OpenProcess.restype = wintypes.HANDLE
        k.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
        k.CloseHandle.argtypes = [wintypes.HANDLE]
        k.GetCurrentProcess.restype = wintypes.HANDLE
        k.QueryFullProcessImageNameW.argtypes = [wintypes.HANDLE, wintypes.DWORD, wintypes.LPWSTR,
                                                 ctypes.POINTER(wintypes.DWORD)]
        a.OpenProcessToken.argtypes = [wintypes.HANDLE, wintypes.DWORD, ctypes.POINTER(wintypes.HANDLE)]
        a.GetTokenInformation.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD,
                                          ctypes.POINTER(wintypes.DWORD)]
        a.GetSidSubAuthorityCount.restype = ctypes.POINTER(ctypes.c_ubyte)
        a.GetSidSubAuthorityCount.argtypes = [ctypes.c_void_p]
        a.GetSidSubAuthority.restype = ctypes.POINTER(wintypes.DWORD)
        a.GetSidSubAuthority.argtypes = [ctypes.c_void_p, wintypes.DWORD]
        self._probe_ids = itertools.count(0xB000)

    def foreground_window(self) -> int:
        return int(self.user32.GetForegroundWindow() or 0)

    def window_pid(self, hwnd: int) -> int:
        pid = wintypes.DWORD(0)
        self.user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
        return int(pid.value)

    def window_title(self, hwnd: int) -> str:
        buf = ctypes.create_unicode_buffer(512)
        self.user32.GetWindowTextW(hwnd, buf, 512)
        return buf.value

    def window_class(self, hwnd: int) -> str:
        buf = ctypes.create_unicode_buffer(256)
        self.user32.GetClassNameW(hwnd, buf, 256)
        return buf.value

    def process_name(self, pid: int) -> str:
        handle = self.kernel32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            return ""
        try:
            size = wintypes.DWORD(1024)
            buf = ctypes.create_unicode_buffer(size.value)
            if not self.kernel32.QueryFullProcessImageNameW(handle, 0, buf, ctypes.byref(size)):
                return ""
            return buf.value.replace("/", "\\").rsplit("\\", 1)[-1]
        finally:
            self.kernel32.CloseHandle(handle)

    def is_window(self, hwnd: int) -> bool:
        return bool(self.user32.IsWindow(hwnd))

    def activate(self, hwnd: int) -> bool:
        if self.user32.IsIconic(hwnd):
            self.user32.ShowWindow(hwnd, SW_RESTORE)
        if self.user32.SetForegroundWindow(hwnd):
            return True
        # The foreground lock refuses us unless we "just had input": a synthetic Alt tap counts.
        self.user32.keybd_event(VK_MENU, 0, 0, None)
        self.user32.keybd_event(VK_MENU, 0, KEYEVENTF_KEYUP, None)
        return bool(self.user32.SetForegroundWindow(hwnd))

    def integrity_level(self, pid: int | None) -> int | None:
        k, a = self.kernel32, self.advapi32
        own = pid is None
        process = k.GetCurrentProcess() if own else k.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not process:
            return None
        token = wintypes.HANDLE()
        try:
            if not a.OpenProcessToken(process, TOKEN_QUERY, ctypes.byref(token)):
                return None
            try:
                size = wintypes.DWORD(0)
                a.GetTokenInformation(token, TOKEN_INTEGRITY_LEVEL, None, 0, ctypes.byref(size))
                buf = ctypes.create_string_buffer(size.value or 64)
                if not a.GetTokenInformation(token, TOKEN_INTEGRITY_LEVEL, buf, len(buf), ctypes.byref(size)):
                    return None
                label = ctypes.cast(buf, ctypes.POINTER(_SidAndAttributes)).contents
                count = a.GetSidSubAuthorityCount(label.Sid).contents.value
                return int(a.GetSidSubAuthority(label.Sid, count - 1).contents.value)
            finally:
                k.CloseHandle(token)
        finally:
            if not own:
                k.CloseHandle(process)

    def hotkey_free(self, modifiers: int, vk: int) -> bool:
        probe_id = next(self._probe_ids)
        if self.user32.RegisterHotKey(None, probe_id, modifiers, vk):
            self.user32.UnregisterHotKey(None, probe_id)
            return True
        return ctypes.get_last_error() != ERROR_HOTKEY_ALREADY_REGISTERED

    def input_desktop(self) -> str:
        desktop = self.user32.OpenInputDesktop(0, False, 0)
        if not desktop:
            return "Winlogon"  # no access to the input desktop: the secure desktop is up (locked)
        try:
            buf = ctypes.create_unicode_buffer(256)
            needed = wintypes.DWORD(0)
            if not self.user32.GetUserObjectInformationW(desktop, UOI_NAME, buf, ctypes.sizeof(buf),
                                                         ctypes.byref(needed)):
                return ""
            return buf.value
        finally:
            self.user32.CloseDesktop(desktop)

"""The file toolkit the handover and the reply import/export share (GUI-free, no store).

- cells: spreadsheet cells safe against formula injection (neutralise / unneutralise, the CSV
  split-cell variant), XML text escaping, display widths.
- atomic: write a file through a temporary file next to it, moved into place (0600).
- progress: Steps / Budget (a phase's share of a total) and Ticker (about 100 calls at most).
- reading: a user-supplied file read with size limits, text decoding (UTF-8, GB18030, UTF-16/32
  refused with a hint), JSON parsing with readable errors.
- xlsx: the one XLSX writer (hand-written streaming SpreadsheetML: ~1 µs per cell).

Errors: the reading functions take `fail(zh, en) -> Exception` so each caller words the frame
("交接文件无法导入：…" / a plain sentence) while the reasons stay one text.
"""

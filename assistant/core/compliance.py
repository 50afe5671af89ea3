"""Compliance check on every reply (合规检查): rules as data, pure matching, findings.

The rules live in resources/compliance/rules.json; a shop adds its own, or changes or turns off a
shipped one, in `compliance_rules.json` in the data folder (same format, merged over the shipped
rules by id). A malformed shop file is reported in one sentence (Chinese and English) and ignored
as a whole: the shipped rules still apply.

A rule is regular expressions WITH allowed contexts, not bare words:
- `patterns`: a match is a candidate finding (a plain word is a valid pattern);
- `allow`: a candidate lying wholly inside a match of one of these is fine (第一时间, 最好在…前);
- `unless_fields`: a candidate whose sentence holds one of these fill-in fields is fine (urgency
  tied to {截止时间} or {活动} is backed by the shop's real promotion);
- `scope`: "after_sales" rules apply only to after-sales replies (a group whose path holds one of
  the words of `after_sales.groups`, or an angle in `after_sales.angles`);
- `languages`: when given, only replies in those languages are checked;
- `once_per_sentence`: one finding per sentence (one reward-for-review offer is one problem).

Replies are checked when they are saved (assistant/core/replies.py stores the findings in
replies.compliance): the paste path never runs a rule. Everything here but the loading is pure.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..paths import resource_path
from . import digest, templates

log = logging.getLogger(__name__)

FORMAT = "kefu-assistant.compliance"
USER_FILE = "compliance_rules.json"
# Part of the rules' signature: a change to the matching code below rechecks every stored reply.
CHECKER_VERSION = 1
SCOPES = ("all", "after_sales")
_RULE_KEYS = {"id", "category", "patterns", "allow", "unless_fields", "scope", "languages", "once_per_sentence",
              "message", "suggestion", "enabled", "note"}
# Sentence ends: a finding's sentence is where unless_fields and once_per_sentence look.
_SENTENCE_END = re.compile(r"[。！？!?\n；;]")
# Full-width ASCII (ＡＢＣ１００％) is matched as half-width; one character for one, so spans hold.
_HALF_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    patterns: tuple[re.Pattern[str], ...]
    allow: tuple[re.Pattern[str], ...]
    unless_fields: frozenset[str]
    scope: str
    languages: frozenset[str]
    once_per_sentence: bool
    message_zh: str
    message_en: str
    suggestion_zh: str
    suggestion_en: str


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    categories: Mapping[str, tuple[str, str]]  # id -> (zh, en)
    after_sales_groups: tuple[str, ...]
    after_sales_angles: frozenset[str]
    signature: str  # changes whenever the effective rules change: stored flags are then rechecked
    problem: tuple[str, str] | None = None  # (zh, en): the shop's file was malformed and ignored
    user_file: str = ""


@dataclass(frozen=True)
class Finding:
    """One place in a reply that breaks a rule: [start, end) in the text as saved."""

    rule: str
    category: str
    start: int
    end: int
    text: str
    message_zh: str
    message_en: str
    suggestion_zh: str
    suggestion_en: str
    category_zh: str = ""
    category_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FlaggedError(ValidationError):
    """A save refused because the text breaks compliance rules (`kefu replies add/edit --strict`)."""

    exit_code = 7

    def __init__(self, findings: Sequence[Finding]) -> None:
        zh, en = summary(findings)
        super().__init__(f"{zh}（--strict：未保存）", f"{en} (--strict: nothing saved)", field="body")
        self.findings = list(findings)


class _Malformed(Exception):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


# ---------------------------------------------------------------- checking (pure)

def normalize(text: str) -> str:
    """The text rules see: full-width letters, digits and signs as half-width, same length."""
    return text.translate(_HALF_WIDTH)


def is_after_sales(rules: RuleSet, group_path: str, angle: str | None) -> bool:
    if angle and angle in rules.after_sales_angles:
        return True
    path = (group_path or "").lower()
    return any(word in path for word in rules.after_sales_groups)


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    left = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    found = _SENTENCE_END.search(text, end)
    return left, (found.start() if found else len(text))


def _fields_in(text: str) -> set[str]:
    found = set()
    for piece in re.finditer(r"\{([^{}\n]{1,40})\}", text):
        name = templates.canonical(piece.group(1))
        if name:
            found.add(name)
    return found


def check(text: str, rules: RuleSet, *, group_path: str = "", angle: str | None = None,
          language: str = "zh") -> list[Finding]:
    """Every finding in a reply's text, in text order. Pure: the same text, place and rules give
    the same findings."""
    if not text:
        return []
    seen = normalize(text)
    after_sales = is_after_sales(rules, group_path, angle)
    lang = (language or "zh").split("-")[0].lower()
    findings: list[Finding] = []
    for rule in rules.rules:
        if rule.scope == "after_sales" and not after_sales:
            continue
        if rule.languages and lang not in rule.languages:
            continue
        allowed: list[tuple[int, int]] | None = None  # found on the first candidate: most texts have none
        sentences_done: set[tuple[int, int]] = set()
        spans: list[tuple[int, int]] = []
        for pattern in rule.patterns:
            for m in pattern.finditer(seen):
                start, end = m.span()
                if start == end:
                    continue
                if allowed is None:
                    allowed = [a.span() for pattern in rule.allow for a in pattern.finditer(seen)]
                if any(a <= start and end <= b for a, b in allowed):
                    continue
                if any(start < e and s < end for s, e in spans):
                    continue  # two patterns of one rule on the same words: one finding
                sentence = _sentence(seen, start, end)
                if rule.unless_fields and rule.unless_fields & _fields_in(seen[sentence[0]:sentence[1]]):
                    continue
                if rule.once_per_sentence:
                    if sentence in sentences_done:
                        continue
                    sentences_done.add(sentence)
                spans.append((start, end))
                zh, en = rules.categories.get(rule.category, (rule.category, rule.category))
                findings.append(Finding(rule.id, rule.category, start, end, text[start:end], rule.message_zh,
                                        rule.message_en, rule.suggestion_zh, rule.suggestion_en, zh, en))
    findings.sort(key=lambda f: (f.start, f.end, f.rule))
    return findings


def summary(findings: Sequence[Finding]) -> tuple[str, str]:
    """One line (zh, en): "合规提示：好评返现“五星好评…返现”；绝对化用语“最低价”"."""
    zh = "；".join(f"{f.category_zh or f.category}“{_short(f.text)}”" for f in findings)
    en = "; ".join(f"{f.category_en or f.category} \"{_short(f.text)}\"" for f in findings)
    return f"合规提示：{zh}", f"Compliance: {en}"


def _short(text: str, limit: int = 16) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def dumps(findings: Sequence[Finding]) -> str:
    """What replies.compliance holds: a JSON list ("[]" = checked, nothing found)."""
    return json.dumps([f.to_dict() for f in findings], ensure_ascii=False, separators=(",", ":"))


def loads(value: str | None) -> list[Finding]:
    """The stored findings; anything unreadable reads as none (the next recheck rewrites it)."""
    if not value:
        return []
    try:
        items = json.loads(value)
    except ValueError:
        return []
    names = {f.name for f in Finding.__dataclass_fields__.values()}  # type: ignore[attr-defined]
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and {"rule", "category", "start", "end", "text"} <= set(item):
            try:
                out.append(Finding(**{k: v for k, v in item.items() if k in names}))
            except TypeError:
                continue
    return out


# ---------------------------------------------------------------- loading

def _text(value: Any, where: str, name: str) -> tuple[str, str]:
    if isinstance(value, str) and value.strip():
        return value, value
    if isinstance(value, dict) and isinstance(value.get("zh"), str) and isinstance(value.get("en"), str) \
            and value["zh"].strip() and value["en"].strip():
        return value["zh"], value["en"]
    raise _Malformed(f"{where} 的 {name} 应为 {{\"zh\": \"…\", \"en\": \"…\"}}",
                     f"{where}: {name} must be {{\"zh\": \"…\", \"en\": \"…\"}}")


def _regexes(values: Any, where: str, name: str, required: bool) -> tuple[re.Pattern[str], ...]:
    if values is None and not required:
        return ()
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or (required and not values) or \
            not all(isinstance(v, str) and v for v in values):
        raise _Malformed(f"{where} 的 {name} 应为非空的文字列表", f"{where}: {name} must be a list of non-empty strings")
    compiled = []
    for value in values:
        try:
            compiled.append(re.compile(value))
        except re.error as exc:
            raise _Malformed(f"{where} 的 {name} “{value}” 不是有效的正则表达式（{exc}）",
                             f"{where}: {name} '{value}' is not a valid regular expression ({exc})") from None
    return tuple(compiled)


def _strings(values: Any, where: str, name: str) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise _Malformed(f"{where} 的 {name} 应为文字列表", f"{where}: {name} must be a list of strings")
    return [v.strip() for v in values]


def _compile_rule(raw: Any, n: int, categories: Mapping[str, tuple[str, str]]) -> Rule:
    if not isinstance(raw, dict):
        raise _Malformed(f"第 {n} 条规则不是对象", f"rule {n} is not an object")
    rid = raw.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise _Malformed(f"第 {n} 条规则缺少 id", f"rule {n} has no id")
    where_zh = where = f"rule '{rid}'"
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise _Malformed(f"{where_zh} 有未知的键：{', '.join(sorted(unknown))}",
                         f"{where} has unknown keys: {', '.join(sorted(unknown))}")
    category = raw.get("category")
    if category not in categories:
        raise _Malformed(f"{where_zh} 的类别 “{category}” 未定义（可用：{'、'.join(categories)}）",
                         f"{where}: category '{category}' is not defined (known: {', '.join(categories)})")
    scope = raw.get("scope", "all")
    if scope not in SCOPES:
        raise _Malformed(f"{where_zh} 的 scope 只能是 all 或 after_sales", f"{where}: scope must be all or after_sales")
    fields = _strings(raw.get("unless_fields"), where, "unless_fields")
    for name in fields:
        if templates.canonical(name) is None:
            raise _Malformed(f"{where_zh} 的 unless_fields 中 “{name}” 不是填空字段",
                             f"{where}: unless_fields '{name}' is not a fill-in field")
    if not isinstance(raw.get("once_per_sentence", False), bool):
        raise _Malformed(f"{where_zh} 的 once_per_sentence 应为 true 或 false",
                         f"{where}: once_per_sentence must be true or false")
    message = _text(raw.get("message"), where, "message")
    suggestion = _text(raw.get("suggestion"), where, "suggestion")
    return Rule(rid.strip(), category, _regexes(raw.get("patterns"), where, "patterns", True),
                _regexes(raw.get("allow"), where, "allow", False),
                frozenset(templates.canonical(f) or f for f in fields), scope,
                frozenset(v.lower() for v in _strings(raw.get("languages"), where, "languages")),
                bool(raw.get("once_per_sentence", False)), *message, *suggestion)


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _Malformed(f"无法读取（{exc.strerror}）", f"cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _Malformed("不是 UTF-8 文本", "is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _Malformed(f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）",
                         f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _Malformed(f"不是合规规则文件（需要 \"format\": \"{FORMAT}\"）",
                         f"is not a compliance rules file (needs \"format\": \"{FORMAT}\")")
    if not isinstance(data.get("rules", []), list):
        raise _Malformed("rules 应为列表", "rules must be a list")
    return data


def _categories(data: Mapping[str, Any], into: dict[str, tuple[str, str]]) -> None:
    cats = data.get("categories", {})
    if not isinstance(cats, dict):
        raise _Malformed("categories 应为对象", "categories must be an object")
    for key, value in cats.items():
        into[key] = _text(value, f"category '{key}'", "name")


def _merge(shipped: dict[str, Any], user: dict[str, Any] | None) -> tuple[list[Rule], dict, list[str], list[str]]:
    categories: dict[str, tuple[str, str]] = {}
    _categories(shipped, categories)
    after = shipped.get("after_sales", {})
    groups = list(after.get("groups", []))
    angles = list(after.get("angles", []))
    raw_rules: dict[str, Any] = {r["id"]: r for r in shipped["rules"]}
    if user is not None:
        _categories(user, categories)
        extra = user.get("after_sales", {})
        if not isinstance(extra, dict):
            raise _Malformed("after_sales 应为对象", "after_sales must be an object")
        groups += _strings(extra.get("groups"), "after_sales", "groups")
        angles += _strings(extra.get("angles"), "after_sales", "angles")
        for n, raw in enumerate(user.get("rules", []), start=1):
            if isinstance(raw, dict) and raw.get("enabled") is False and isinstance(raw.get("id"), str):
                raw_rules.pop(raw["id"], None)  # a shop turns a shipped rule off
                continue
            rule = _compile_rule(raw, n, categories)  # checked here so the message names the user's rule
            raw_rules[rule.id] = raw
    rules = [_compile_rule(raw, n, categories) for n, raw in enumerate(raw_rules.values(), start=1)
             if raw.get("enabled", True) is not False]
    return rules, categories, [g.lower() for g in groups], angles


_cache: dict[tuple, RuleSet] = {}


def _stamp(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def load_rules(user_file: Path | str | None = None) -> RuleSet:
    """The shipped rules merged with the shop's file (when given and present). Cached until
    either file changes. A malformed shop file leaves the shipped rules, with `problem` set."""
    shipped_path = resource_path("compliance", "rules.json")
    user_path = Path(user_file) if user_file else None
    key = (str(shipped_path), _stamp(shipped_path), str(user_path), _stamp(user_path))
    cached = _cache.get(key)
    if cached is not None:
        return cached
    shipped_bytes = shipped_path.read_bytes()
    shipped = json.loads(shipped_bytes.decode("utf-8"))
    user_bytes = b""
    problem: tuple[str, str] | None = None
    user: dict[str, Any] | None = None
    if user_path is not None and user_path.exists():
        try:
            user = _read(user_path)
            user_bytes = user_path.read_bytes()
            merged = _merge(shipped, user)
        except _Malformed as exc:
            problem = (f"自定义合规规则文件 {user_path} 有误：{exc.zh}。已忽略这个文件，仍按内置规则检查。",
                       f"The shop's compliance rules file {user_path} is malformed: {exc.en}. "
                       "It was ignored; the built-in rules still apply.")
            log.info("compliance: the shop's rules file is malformed and was ignored")
            user, user_bytes = None, b""
    if user is None:
        merged = _merge(shipped, None)
    rules, categories, groups, angles = merged
    version = digest.sha256(f"{CHECKER_VERSION}\0".encode() + shipped_bytes + b"\0" + user_bytes).hexdigest()[:16]
    ruleset = RuleSet(tuple(rules), categories, tuple(groups), frozenset(angles), version, problem,
                      str(user_path) if user_path else "")
    if len(_cache) > 8:
        _cache.clear()
    _cache[key] = ruleset
    return ruleset


def user_rules_path(store: Any) -> Path | None:
    """The shop's rules file beside the store's database (none for an in-memory store)."""
    path = Path(str(getattr(store, "path", ":memory:")))
    if str(path) == ":memory:":
        return None
    return path.parent / USER_FILE


def rules_for(store: Any) -> RuleSet:
    return load_rules(user_rules_path(store))


def check_all(items: Iterable[tuple[str, str, str | None, str]], rules: RuleSet) -> list[list[Finding]]:
    """check() over (text, group path, angle, language) tuples."""
    return [check(text, rules, group_path=path, angle=angle, language=lang) for text, path, angle, lang in items]

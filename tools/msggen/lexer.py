"""Split an IDL header into tokens, keeping comments (they become docs).

The IDL is a small subset of C, so the lexer is small too: identifiers,
integer literals, punctuation, comments, and preprocessor lines (kept whole,
the parser decides which ones it accepts).  Anything else is an error.
"""

import re
from dataclasses import dataclass
from typing import List, Optional

from .model import Loc, MsgGenError

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"(0[xX][0-9A-Fa-f]+|[0-9]+)([uUlL]*)(?![A-Za-z0-9_.])")
_PUNCT = "{}()[];,*=-:+&|<>.~!?/%^"


@dataclass
class Token:
    kind: str  # "ident" "int" "punct" "directive" "comment" "eof"
    text: str
    line: int
    end_line: int = 0  # last line of a comment or directive
    value: int = 0  # for "int"
    doc: str = ""  # for "comment": the text without delimiters

    def __post_init__(self):
        if not self.end_line:
            self.end_line = self.line


def comment_text(raw: str) -> str:
    """The text of a comment without //, /* */ and leading ' * '."""
    if raw.startswith("//"):
        return raw.lstrip("/").lstrip("!<").strip()
    body = raw[2:-2]
    if body.startswith(("*", "!")) and not body.startswith("**/"):
        body = body[1:]
    body = body.lstrip("<")
    lines = []
    for ln in body.split("\n"):
        ln = ln.strip()
        if ln.startswith("*"):
            ln = ln[1:]
            if ln.startswith(" "):
                ln = ln[1:]
        lines.append(ln.rstrip())
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def parse_int(text: str, loc: Loc) -> int:
    m = _NUMBER.fullmatch(text)
    if not m:
        raise MsgGenError(loc, f"'{text}' is not an integer literal")
    digits, suffix = m.groups()
    if len(digits) > 1 and digits[0] == "0" and digits[1] not in "xX":
        if not re.fullmatch(r"[0-7]+", digits):
            raise MsgGenError(loc, f"'{text}' is not a valid integer: a leading 0 makes it "
                              f"octal in C; write {int(digits)} without the leading zeros")
        raise MsgGenError(
            loc,
            f"'{text}' is an octal literal in C, which is easy to misread; "
            f"write {int(digits, 8)} (decimal) or {hex(int(digits, 8))} instead",
        )
    if suffix and suffix.lower() not in ("u", "l", "ul", "lu", "ll", "ull", "llu"):
        raise MsgGenError(loc, f"'{text}' has an unknown suffix '{suffix}'")
    return int(digits, 0)


class Lexer:
    def __init__(self, path: str, text: str):
        self.path = path
        self.src = text.replace("\r\n", "\n")
        self.pos = 0
        self.line = 1
        self.tokens: List[Token] = []

    def loc(self, line: Optional[int] = None) -> Loc:
        return Loc(self.path, line or self.line)

    def run(self) -> List[Token]:
        s = self.src
        at_line_start = True
        while self.pos < len(s):
            c = s[self.pos]
            if c == "\n":
                self.line += 1
                self.pos += 1
                at_line_start = True
                continue
            if c in " \t\f\v":
                self.pos += 1
                continue
            if c == "\\" and s.startswith("\\\n", self.pos):
                self.pos += 2
                self.line += 1
                continue
            if s.startswith("/*", self.pos) or s.startswith("//", self.pos):
                self.tokens.append(self.comment())
                continue
            if c == "#":
                if not at_line_start:
                    raise MsgGenError(self.loc(), "'#' in the middle of a line")
                self.directive()
                at_line_start = True
                continue
            at_line_start = False
            m = _IDENT.match(s, self.pos)
            if m:
                self.tokens.append(Token("ident", m.group(), self.line))
                self.pos = m.end()
                continue
            if c.isdigit():
                m = _NUMBER.match(s, self.pos)
                if not m:
                    end = re.compile(r"[0-9A-Za-z_.+-]*").match(s, self.pos).end()
                    raise MsgGenError(
                        self.loc(),
                        f"'{s[self.pos:end]}' is not an integer literal; only integer "
                        "literals are understood here",
                    )
                value = parse_int(m.group(), self.loc())
                self.tokens.append(Token("int", m.group(), self.line, value=value))
                self.pos = m.end()
                continue
            if c in _PUNCT:
                self.tokens.append(Token("punct", c, self.line))
                self.pos += 1
                continue
            what = {'"': "a string literal", "'": "a character literal"}.get(c, f"'{c}'")
            raise MsgGenError(self.loc(), f"unexpected {what}: the IDL only has messages, "
                              "enums and #define'd integer constants")
        self.tokens.append(Token("eof", "", self.line))
        return self.tokens

    def comment(self) -> Token:
        s = self.src
        start_line = self.line
        if s.startswith("//", self.pos):
            end = s.find("\n", self.pos)
            end = len(s) if end < 0 else end
            raw = s[self.pos:end]
            self.pos = end
        else:
            end = s.find("*/", self.pos + 2)
            if end < 0:
                raise MsgGenError(self.loc(), "comment is not closed: add */")
            raw = s[self.pos:end + 2]
            nested = raw.find("/*", 2)
            if nested >= 0:
                raise MsgGenError(self.loc(self.line + raw.count("\n", 0, nested)),
                                  "'/*' inside a comment (was a comment left open?): close "
                                  "the comment before it, or write '/ *'")
            self.line += raw.count("\n")
            self.pos = end + 2
        return Token("comment", raw, start_line, self.line, doc=comment_text(raw))

    def directive(self) -> None:
        """Read one preprocessor line (with continuations).  Comments in it
        become comment tokens after the directive token."""
        s = self.src
        start_line = self.line
        self.pos += 1
        text = []
        comments = []
        while self.pos < len(s) and s[self.pos] != "\n":
            if s.startswith("\\\n", self.pos):
                self.pos += 2
                self.line += 1
                text.append(" ")
            elif s.startswith("/*", self.pos) or s.startswith("//", self.pos):
                comments.append(self.comment())
                text.append(" ")
            else:
                text.append(s[self.pos])
                self.pos += 1
        self.tokens.append(Token("directive", "".join(text).strip(), start_line, self.line))
        self.tokens.extend(comments)


def tokenize(path: str, text: str) -> List[Token]:
    return Lexer(path, text).run()

"""Parse an IDL header into a model.Header.

The grammar (docs/msggen.md has the user's version):

    file       := { directive | message | struct | enum }
    message    := AX_MESSAGE ( Name , id ) [;] typedef struct [Name] { field+ } Name ;
                | AX_EMPTY_MESSAGE ( Name , id ) [;]
    struct     := AX_STRUCT ( Name ) [;] typedef struct [Name] { field+ } Name ;
    enum       := AX_ENUM ( Name , inttype ) { enumerator {, enumerator} [,] } ;
    field      := type declarator {, declarator} ;
    declarator := name { [ length ] }
    directive  := #include of <stdint.h> <stdbool.h> <stddef.h> <axon/idl.h>
                | #pragma once | include guard | #define NAME integer

Everything outside this grammar is an error that says what to write
instead.  Layout is computed as each struct is completed (a struct can only
nest types declared above it, exactly as in C).
"""

import os
import re
from typing import Dict, List, Optional, Tuple

from . import layout, names
from .lexer import Token, parse_int, tokenize
from .model import (ID_MAX, ID_MIN, PRIMS, SYSTEM_BASE, Const, Enum, Enumerator,
                    Field, Header, Loc, MsgGenError, Struct)

ALLOWED_INCLUDES = ("stdint.h", "stdbool.h", "stddef.h", "axon/idl.h")

_BUILTIN_WORDS = {"unsigned", "signed", "int", "long", "short", "char", "float",
                  "double", "_Bool", "bool", "void", "_Complex", "__int128"}

# Integer typedefs whose width is not fixed, and what to write instead.
_NOT_FIXED = {
    "size_t": "uint64_t", "ssize_t": "int64_t", "ptrdiff_t": "int64_t",
    "intptr_t": "int64_t", "uintptr_t": "uint64_t", "intmax_t": "int64_t",
    "uintmax_t": "uint64_t", "off_t": "int64_t", "time_t": "int64_t",
    "wchar_t": "uint32_t (or char[N] holding UTF-8)", "char16_t": "uint16_t",
    "char32_t": "uint32_t", "char8_t": "uint8_t",
}

_QUALIFIERS = {
    "const": "'const' is not allowed on a field: remove it (messages are plain values)",
    "volatile": "'volatile' is not allowed on a field: remove it",
    "restrict": "'restrict' only applies to pointers, which messages cannot hold",
    "_Atomic": "atomic fields are not supported: a message is copied as plain bytes; "
               "use the plain integer type",
    "static": "storage classes are not allowed in a struct: remove 'static'",
    "extern": "storage classes are not allowed in a struct: remove 'extern'",
    "register": "storage classes are not allowed in a struct: remove 'register'",
}

_LAYOUT_ATTRS = {"_Alignas", "alignas", "__attribute__", "__attribute", "__declspec",
                 "__packed", "__aligned", "_Pragma", "__extension__"}
_LAYOUT_MSG = ("alignment and packing attributes are not supported: every language must "
               "compute the same natural layout; reorder the fields or add explicit "
               "padding fields (e.g. uint8_t reserved[3]) instead")

POINTER_WHY = ("an address means nothing to another process or language; use a fixed-size "
               "array (e.g. char name[32] or uint8_t data[256] with a length field) or an id")
POINTER_MSG = "pointers are not supported: " + POINTER_WHY
FLEX_MSG = ("flexible and zero-length array members are not supported: every message has a "
            "fixed size; use a fixed-size array with a length field instead, e.g. "
            "uint32_t len; uint8_t data[256];")
BITFIELD_MSG = ("bitfields are not supported: their layout is up to each compiler; use a "
                "whole integer (e.g. uint8_t flags) and masks instead")
UNION_MSG = ("unions are not supported: other languages cannot tell which member is live; "
             "use one message per case, or a tag field plus one field per case")
ANON_MSG = ("anonymous structs are not supported: declare the struct above with "
            "AX_STRUCT(Name) (or AX_MESSAGE) and use it here as 'Name field;'")
ENUM_MSG = ("plain C enums have a compiler-chosen size: declare "
            "AX_ENUM(Name, int32_t) {{ ... }}; and use Name as the field type")


def _builtin_advice(words: List[str], has_dims: bool) -> Optional[str]:
    """For a run of C builtin type words: None if acceptable, else advice."""
    key = sorted(w for w in words if w != "int" or len(words) == 1)
    spelled = " ".join(words)
    if words in (["float"], ["double"], ["bool"], ["_Bool"]):
        return None
    if words == ["char"]:
        if has_dims:
            return None
        return ("a lone 'char' is signed on x86-64 and unsigned on AArch64; write int8_t "
                "or uint8_t for a number, or char name[N] for text")
    if "void" in words:
        return "a field cannot be void: give it a fixed-width type such as uint8_t"
    if "_Complex" in words:
        return "complex numbers are not supported: use two float or double fields"
    if "__int128" in words:
        return "128-bit integers are not supported: use two uint64_t fields"
    if key == ["double", "long"]:
        return ("'long double' has a different size on each platform; write double instead")
    unsigned = "unsigned" in words
    base = [w for w in key if w not in ("signed", "unsigned")]
    if base == ["char"]:
        fixed = "uint8_t" if unsigned else "int8_t"
    elif base == ["short"]:
        fixed = "uint16_t" if unsigned else "int16_t"
    elif base in (["long"], ["long", "long"]):
        fixed = "uint64_t" if unsigned else "int64_t"
        if base == ["long"]:
            return (f"'{spelled}' has no fixed width (64 bits on Linux, 32 on Windows); "
                    f"write {fixed} (or {fixed.replace('64', '32')}) instead")
    elif base in ([], ["int"]):
        fixed = "uint32_t" if unsigned else "int32_t"
    else:
        return f"'{spelled}' is not a type the IDL understands; use a fixed-width type such as int32_t"
    return f"'{spelled}' has no fixed width in C; write {fixed} instead"


class Parser:
    def __init__(self, path: str, text: str):
        self.path = path
        self.toks = tokenize(path, text)
        self.i = 0
        self.pending: List[Token] = []  # comments seen since the last take_doc
        stem = os.path.basename(path)
        stem = stem[:-2] if stem.endswith(".h") else os.path.splitext(stem)[0]
        self.header = Header(path=path, stem=stem)
        self.types: Dict[str, object] = {}  # name -> Struct | Enum
        self.globals: Dict[str, Loc] = {}  # every C-level name -> where declared
        self.consts: Dict[str, Const] = {}
        self.guards: List[str] = []

    # ---- tokens -------------------------------------------------------
    def loc(self, tok: Token) -> Loc:
        return Loc(self.path, tok.line)

    def error(self, tok: Token, msg: str) -> MsgGenError:
        return MsgGenError(self.loc(tok), msg)

    def peek(self, k: int = 0) -> Token:
        j = self.i
        while True:
            t = self.toks[j]
            if t.kind != "comment":
                if k == 0:
                    return t
                k -= 1
            j += 1

    def advance(self) -> Token:
        while self.toks[self.i].kind == "comment":
            self.pending.append(self.toks[self.i])
            self.i += 1
        t = self.toks[self.i]
        if t.kind != "eof":
            self.i += 1
        return t

    def expect(self, text: str, what: str) -> Token:
        t = self.advance()
        if t.text != text or t.kind not in ("punct", "ident"):
            raise self.error(t, f"expected '{text}' {what}, found {self.describe(t)}")
        return t

    def expect_ident(self, what: str) -> Token:
        t = self.advance()
        if t.kind != "ident":
            raise self.error(t, f"expected {what}, found {self.describe(t)}")
        return t

    @staticmethod
    def describe(t: Token) -> str:
        if t.kind == "eof":
            return "the end of the file"
        if t.kind == "directive":
            return f"'#{t.text}'"
        return f"'{t.text}'"

    def take_doc(self, first: Token) -> List[str]:
        """The comment block that ends right above (or on the line of) `first`."""
        block: List[Token] = []
        line = first.line
        for c in reversed(self.pending):
            if c.end_line >= line - 1 and c.line <= first.line:
                block.insert(0, c)
                line = c.line
            else:
                break
        self.pending = []
        return [ln for c in block for ln in c.doc.split("\n")] if block else []

    def trailing_doc(self, line: int) -> List[str]:
        """A comment that starts on `line`, right after the last token."""
        t = self.toks[self.i]
        if t.kind == "comment" and t.line == line:
            self.i += 1
            return t.doc.split("\n") if t.doc else []
        return []

    # ---- names --------------------------------------------------------
    def declare(self, tok: Token, name: str, what: str) -> None:
        why = names.problem(name, what)
        if why:
            raise self.error(tok, f"{why}; choose another name")
        if name in self.globals:
            raise self.error(tok, f"'{name}' is already declared at {self.globals[name]}; "
                             "every type, enumerator and constant needs its own name")
        self.globals[name] = self.loc(tok)

    def int_value(self, what: str) -> Tuple[int, Token]:
        """An integer literal (optionally negative) or a #define'd constant."""
        t = self.advance()
        neg = False
        if t.kind == "punct" and t.text == "-":
            neg = True
            t = self.advance()
        if t.kind == "int":
            v = t.value
        elif t.kind == "ident" and t.text in self.consts:
            v = self.consts[t.text].value
        else:
            raise self.error(t, f"{what} must be an integer literal or a #define'd constant, "
                             f"found {self.describe(t)}")
        nxt = self.peek()
        if nxt.kind == "punct" and nxt.text in "+-*/<>|&%^(":
            raise self.error(nxt, f"{what} must be a single integer literal or #define'd "
                             "constant, not an expression: write the computed value")
        return (-v if neg else v), t

    # ---- top level ----------------------------------------------------
    def parse(self) -> Header:
        while True:
            t = self.peek()
            if t.kind == "eof":
                break
            if t.kind == "directive":
                self.directive(self.advance())
            elif t.kind == "ident" and t.text in ("AX_MESSAGE", "AX_STRUCT", "AX_EMPTY_MESSAGE"):
                self.struct_decl()
            elif t.kind == "ident" and t.text == "AX_ENUM":
                self.enum_decl()
            elif t.kind == "punct" and t.text == ";":
                self.advance()
            else:
                self.unexpected_top(t)
        if self.guards:
            raise MsgGenError(Loc(self.path, self.peek().line),
                              f"'#ifndef {self.guards[-1]}' has no #endif: add one")
        self.check_field_names()
        return self.header

    def check_field_names(self) -> None:
        """A field may not share its name with a type (C++ would change the
        type name's meaning inside the struct) or a #define (the C
        preprocessor would replace the field name)."""
        for s in self.header.structs:
            for f in s.fields:
                if f.name in self.consts:
                    raise MsgGenError(f.loc, f"field '{f.name}' has the name of the constant "
                                      f"#define'd at {self.consts[f.name].loc}, which C would "
                                      "substitute: rename one of them")
                if f.name in self.types:
                    raise MsgGenError(f.loc, f"field '{f.name}' has the name of the type "
                                      f"declared at {self.types[f.name].loc}, which C++ does "
                                      "not allow in a struct: rename the field")

    def unexpected_top(self, t: Token) -> None:
        nxt = self.peek(1)
        if t.text == "typedef" and nxt.text == "struct":
            name = self.typedef_name_guess()
            raise self.error(t, f"struct {name or ''} has no AX_MESSAGE({name or 'Name'}, id) "
                             f"or AX_STRUCT({name or 'Name'}) on the line before it: "
                             "add one so every language knows what it is")
        if t.text == "union" or (t.text == "typedef" and nxt.text == "union"):
            raise self.error(t, UNION_MSG)
        if t.text == "struct":
            raise self.error(t, "write 'AX_MESSAGE(Name, id)' or 'AX_STRUCT(Name)' followed by "
                             "'typedef struct { ... } Name;' instead of a tagged struct")
        if t.text == "enum" or (t.text == "typedef" and nxt.text == "enum"):
            raise self.error(t, ENUM_MSG.format())
        if t.text == "typedef":
            raise self.error(t, "type aliases are not supported: use the fixed-width type "
                             "directly, or AX_ENUM(Name, int32_t) for named values")
        raise self.error(t, f"unexpected {self.describe(t)}: expected AX_MESSAGE(Name, id), "
                         "AX_EMPTY_MESSAGE(Name, id), AX_STRUCT(Name), AX_ENUM(Name, type) "
                         "or a directive")

    def typedef_name_guess(self) -> Optional[str]:
        depth = 0
        toks = [t for t in self.toks[self.i:] if t.kind != "comment"]
        for j, t in enumerate(toks[:-1]):
            if t.text == "{":
                depth += 1
            elif t.text == "}":
                depth -= 1
            elif depth == 0 and t.kind == "ident" and t.text not in ("typedef", "struct"):
                if toks[j + 1].text == ";":
                    return t.text
            if t.text == ";" and depth == 0:
                return None
        return None

    # ---- directives ---------------------------------------------------
    def directive(self, t: Token) -> None:
        m = re.match(r"(\w*)\s*(.*)\Z", t.text, re.S)
        word, rest = m.group(1), m.group(2).strip()
        if word == "":
            return
        if word == "include":
            inc = re.fullmatch(r'[<"]([^>"]+)[>"]', rest)
            if inc and inc.group(1) in ALLOWED_INCLUDES:
                return
            raise self.error(t, f"#include {rest} is not allowed: an IDL header may only include "
                             "<stdint.h>, <stdbool.h>, <stddef.h> and <axon/idl.h>; declare "
                             "every type a message uses in the same header")
        if word == "pragma":
            if rest == "once":
                return
            if rest.startswith("once"):
                raise self.error(t, "unexpected text after #pragma once: remove it")
            if rest.startswith("pack"):
                raise self.error(t, "#pragma pack changes the layout and is not supported: "
                                 "reorder the fields or add explicit padding fields instead")
            raise self.error(t, f"#pragma {rest} is not supported: remove it")
        if word == "ifndef":
            nxt = self.peek()
            want = rest.split()[0] if rest else ""
            if (nxt.kind == "directive" and re.fullmatch(r"define\s+" + re.escape(want), nxt.text)
                    and want):
                self.advance()
                self.guards.append(want)
                return
            raise self.error(t, "conditional compilation is not supported (every compiler must "
                             "see the same declarations); '#ifndef X' is only allowed as an "
                             "include guard, followed by '#define X'")
        if word == "endif":
            if rest:
                raise self.error(t, f"unexpected '{rest}' after #endif: remove it (or make it "
                                 "a comment)")
            if not self.guards:
                raise self.error(t, "#endif without a matching #ifndef include guard")
            self.guards.pop()
            return
        if word in ("if", "ifdef", "else", "elif", "elifdef", "elifndef"):
            raise self.error(t, f"#{word} is not supported: every compiler and language must see "
                             "the same declarations; remove the conditional")
        if word == "define":
            self.define(t, rest)
            return
        raise self.error(t, f"#{word} is not supported in an IDL header: remove it")

    def define(self, t: Token, rest: str) -> None:
        m = re.fullmatch(r"([A-Za-z_]\w*)(\(?)\s*(.*)", rest, re.S)
        if not m:
            raise self.error(t, f"cannot read '#define {rest}'")
        name, paren, value = m.group(1), m.group(2), m.group(3).strip()
        if paren:
            raise self.error(t, f"function-like macro {name}(...) is not supported: the IDL "
                             "only has '#define NAME integer' constants")
        value = value[1:-1].strip() if value.startswith("(") and value.endswith(")") else value
        neg = value.startswith("-")
        digits = value[1:].strip() if neg else value
        try:
            v = parse_int(digits, self.loc(t)) if digits else None
        except MsgGenError:
            v = None
        if v is not None and neg:
            v = -v
        if v is None:
            raise self.error(t, f"'#define {name} {value}' is not understood: only "
                             "'#define NAME integer' constants (used as array lengths or "
                             "ids) are supported; write the integer value")
        self.declare(t, name, "constant")
        doc = self.take_doc(t) + self.trailing_doc(t.end_line)
        c = Const(name, v, self.loc(t), doc)
        self.consts[name] = c
        self.header.items.append(c)

    # ---- enums --------------------------------------------------------
    def enum_decl(self) -> None:
        kw = self.advance()
        doc = self.take_doc(kw)
        self.expect("(", "after AX_ENUM")
        nt = self.expect_ident("the enum name")
        self.expect(",", "after the enum name: AX_ENUM(Name, int32_t)")
        bt = self.expect_ident("the underlying type, e.g. int32_t")
        base = PRIMS.get(bt.text)
        if base is None or base.kind != "int":
            raise self.error(bt, f"'{bt.text}' cannot hold an enum: write a fixed-width integer "
                             "type such as int32_t or uint8_t")
        self.expect(")", "after the underlying type")
        self.declare(nt, nt.text, "type")
        self.expect("{", "to open the enumerators: AX_ENUM(Name, int32_t) { A = 0, B = 1 };")
        doc += self.take_doc(self.peek())
        values: List[Enumerator] = []
        nextval = 0
        lo, hi = base.int_range()
        while self.peek().text != "}":
            et = self.expect_ident("an enumerator name")
            edoc = self.take_doc(et)
            self.declare(et, et.text, "enumerator")
            vt = et
            if self.peek().text == "=":
                self.advance()
                nextval, vt = self.int_value("an enumerator value")
            if not lo <= nextval <= hi:
                raise self.error(vt, f"{et.text} = {nextval} does not fit in {base.c} "
                                 f"({lo}..{hi}): pick a smaller value or a wider type")
            if not -2**31 <= nextval < 2**31:
                raise self.error(vt, f"{et.text} = {nextval} does not fit in 'int', which C "
                                 "requires of enumerators: use a value in -2^31..2^31-1")
            end = self.peek()
            if end.text == ",":
                self.advance()
            elif end.text != "}":
                raise self.error(end, f"expected ',' or '}}' after {et.text}, found "
                                 f"{self.describe(end)}")
            edoc += self.trailing_doc(end.line)
            values.append(Enumerator(et.text, nextval, self.loc(et), edoc))
            nextval += 1
        close = self.expect("}", "")
        if not values:
            raise self.error(close, f"AX_ENUM({nt.text}) has no enumerators: add at least one")
        self.pending = []
        self.expect(";", f"after the enumerators of {nt.text}")
        e = Enum(nt.text, base, values, self.loc(nt), doc)
        layout.short_enumerator_names(e)
        self.types[e.name] = e
        self.header.items.append(e)

    # ---- structs ------------------------------------------------------
    def struct_decl(self) -> None:
        kw = self.advance()
        doc = self.take_doc(kw)
        self.expect("(", f"after {kw.text}")
        nt = self.expect_ident(f"the {'struct' if kw.text == 'AX_STRUCT' else 'message'} name")
        name = nt.text
        msg_id = None
        if kw.text != "AX_STRUCT":
            self.expect(",", f"after the name: {kw.text}({name}, id)")
            msg_id, it = self.int_value("a message id")
            if not ID_MIN <= msg_id <= ID_MAX:
                extra = ("0 is never a valid id" if msg_id == 0 else
                         "ids from 0xFFFF0000 are reserved for axon"
                         if SYSTEM_BASE <= msg_id <= 0xFFFFFFFF
                         else "ids are unsigned 32-bit numbers")
                shown = hex(msg_id).upper().replace("0X", "0x") if msg_id > 0xFFFF else msg_id
                raise self.error(it, f"message id {shown} is outside {ID_MIN}..0x{ID_MAX:X} "
                                 f"({extra}); pick an id in that range")
        self.expect(")", f"to close {kw.text}(...)")
        line_end = self.toks[self.i - 1].line
        if self.peek().text == ";":
            self.advance()
        self.declare(nt, name, "type")
        doc += self.trailing_doc(line_end)
        s = Struct(name, msg_id, [], self.loc(nt), doc)
        if kw.text == "AX_EMPTY_MESSAGE":
            s.empty = True
            layout.layout_struct(s)
            self.types[name] = s
            self.header.items.append(s)
            return
        td = self.advance()
        s.doc += self.take_doc(td)
        if td.text != "typedef" or self.peek().text != "struct":
            if td.text == "typedef" and self.peek().text == "union":
                raise self.error(td, UNION_MSG)
            raise self.error(td, f"{kw.text}({name}, ...) must be followed by "
                             f"'typedef struct {{ ... }} {name};', found {self.describe(td)}")
        self.advance()
        if self.peek().kind == "ident":
            tag = self.advance()
            if tag.text != name:
                raise self.error(tag, f"struct tag '{tag.text}' differs from the name '{name}': "
                                 f"write 'typedef struct {name} {{' or leave the tag out")
        self.expect("{", f"to open the fields of {name}")
        s.doc += self.take_doc(self.peek())
        while self.peek().text != "}":
            if self.peek().kind == "eof":
                raise self.error(self.peek(), f"struct {name} is not closed: add '}} {name};'")
            s.fields.extend(self.field_decl(s))
        close = self.expect("}", "")
        if not s.fields:
            raise self.error(close, f"struct {name} has no fields (empty structs are not valid "
                             "C): for a message without payload write "
                             f"AX_EMPTY_MESSAGE({name}, id) instead")
        self.pending = []
        end = self.expect_ident(f"the typedef name '{name}' after '}}'")
        if end.text != name:
            raise self.error(end, f"the typedef name '{end.text}' differs from the name in "
                             f"{kw.text}({name}, ...): write '}} {name};'")
        self.expect(";", f"after '}} {name}'")
        layout.layout_struct(s)
        self.types[name] = s
        self.header.items.append(s)

    def field_type(self, s: Struct):
        """Parse the type part of a field; returns (base, words, first token)."""
        t = self.advance()
        first = t
        if t.kind != "ident":
            raise self.error(t, f"expected a field type or '}}', found {self.describe(t)}")
        if t.text in _QUALIFIERS:
            raise self.error(t, _QUALIFIERS[t.text])
        if t.text in _LAYOUT_ATTRS:
            raise self.error(t, _LAYOUT_MSG)
        if t.text == "union":
            raise self.error(t, UNION_MSG)
        if t.text == "struct":
            nxt = self.peek()
            if nxt.text == "{":
                raise self.error(t, ANON_MSG)
            raise self.error(t, f"write '{nxt.text}' instead of 'struct {nxt.text}': declare it "
                             f"with AX_STRUCT({nxt.text}) or AX_MESSAGE and use the typedef name")
        if t.text == "enum":
            raise self.error(t, ENUM_MSG.format())
        if t.text in _BUILTIN_WORDS:
            words = [t.text]
            while self.peek().kind == "ident" and self.peek().text in _BUILTIN_WORDS:
                words.append(self.advance().text)
            return None, words, first
        if t.text in PRIMS and t.text != "char":
            return PRIMS[t.text], None, first
        if t.text in _NOT_FIXED:
            raise self.error(t, f"'{t.text}' has no fixed width on every platform; write "
                             f"{_NOT_FIXED[t.text]} instead")
        m = re.fullmatch(r"(u?)int_(?:fast|least)(8|16|32|64)_t", t.text)
        if m:
            raise self.error(t, f"'{t.text}' may be wider than it says; write "
                             f"{m.group(1)}int{m.group(2)}_t instead")
        if t.text == s.name:
            raise self.error(t, f"struct {s.name} cannot contain itself: a message has a "
                             "fixed size; use an id or a fixed array of another struct")
        if t.text in self.types:
            return self.types[t.text], None, first
        raise self.error(t, f"unknown type '{t.text}': use a fixed-width type (int32_t, "
                         "double, bool, char[N], ...) or declare it above this struct with "
                         "AX_STRUCT, AX_MESSAGE or AX_ENUM")

    def field_decl(self, s: Struct) -> List[Field]:
        base, words, first = self.field_type(s)
        doc = self.take_doc(first)
        fields = []
        while True:
            t = self.advance()
            if t.text == "*":
                raise self.error(t, POINTER_MSG)
            if t.text == "(":
                raise self.error(t, "function pointers are not supported: " + POINTER_WHY)
            if t.kind == "ident" and t.text in _QUALIFIERS:
                raise self.error(t, _QUALIFIERS[t.text])
            if t.kind == "ident" and t.text in _LAYOUT_ATTRS:
                raise self.error(t, _LAYOUT_MSG)
            if t.kind != "ident":
                if t.text == ":":
                    raise self.error(t, BITFIELD_MSG)
                raise self.error(t, f"expected a field name, found {self.describe(t)}")
            name_tok = t
            dims = []
            while self.peek().text == "[":
                lb = self.advance()
                if self.peek().text == "]":
                    raise self.error(lb, FLEX_MSG)
                n, nt = self.int_value("an array length")
                if n <= 0:
                    raise self.error(nt, FLEX_MSG if n == 0 else
                                     f"array length {n} must be positive")
                dims.append(n)
                self.expect("]", "to close the array length")
            if words is not None:
                advice = _builtin_advice(words, bool(dims))
                if advice:
                    raise self.error(first, advice)
                b = PRIMS["bool" if words == ["_Bool"] else words[0]]
            else:
                b = base
            why = names.problem(name_tok.text, "field")
            if why:
                raise self.error(name_tok, f"{why}; rename the field")
            if any(f.name == name_tok.text for f in s.fields + fields):
                raise self.error(name_tok, f"{s.name} already has a field named "
                                 f"'{name_tok.text}'")
            f = Field(name_tok.text, b, tuple(dims), self.loc(name_tok), list(doc))
            layout.check_field_size(f)
            fields.append(f)
            t = self.advance()
            if t.text == ",":
                continue
            if t.text == ";":
                tail = self.trailing_doc(t.line)
                for f in fields:
                    f.doc += tail
                return fields
            if t.text == ":":
                raise self.error(t, BITFIELD_MSG)
            if t.text == "=":
                raise self.error(t, "fields cannot have initializers: remove '= ...'")
            if t.kind == "ident" and t.text in _LAYOUT_ATTRS:
                raise self.error(t, _LAYOUT_MSG)
            raise self.error(name_tok, f"expected ';' after field '{name_tok.text}', found "
                             f"{self.describe(t)}")


def parse_file(path: str, display: Optional[str] = None) -> Header:
    shown = display or path
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as e:
        raise MsgGenError(Loc(shown, 1), f"cannot read the header: {e}")
    return parse_text(shown, text)


def parse_text(path: str, text: str) -> Header:
    p = Parser(path, text)
    why = names.problem(p.header.stem, "constant")
    if p.header.stem in names.PY_IMPORTS:
        why = f"'{p.header.stem}' would shadow the Python module the generated code imports"
    if not path.endswith(".h") or why:
        raise MsgGenError(Loc(path, 1), "the header's name becomes a C prefix and a Rust and "
                          "Python module name, so it must be NAME.h with NAME a plain "
                          "identifier (e.g. trading_desk.h)" + (f": {why}" if why else ""))
    return p.parse()

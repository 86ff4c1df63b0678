"""Rust output: STEM.rs, a module (no dependencies) with #[repr(C)] structs,
newtype enums, per-type consts, compile-time layout asserts and #[test]s.

Enums are `#[repr(transparent)]` newtypes over their integer, not Rust
enums: bytes from the wire may hold a value this side does not know, and a
Rust enum with an unknown value is undefined behaviour.
"""

from typing import Dict, List

from .common import banner_lines, layout_note, line_comment, write_lines
from .model import Const, Enum, Field, Header, Struct
from .names import rust_ident
from .schema import hex16

_RUST_PRIM = {"i8": "i8", "i16": "i16", "i32": "i32", "i64": "i64", "u8": "u8",
              "u16": "u16", "u32": "u32", "u64": "u64", "f32": "f32", "f64": "f64",
              "bool": "bool", "char": "u8"}


def _base_type(b) -> str:
    if isinstance(b, (Struct, Enum)):
        return b.name
    return _RUST_PRIM[b.key]


def _base_zero(b) -> str:
    if isinstance(b, Struct):
        return f"{b.name}::ZERO"
    if isinstance(b, Enum):
        return f"{b.name}(0)"
    return {"float": "0.0", "bool": "false"}.get(b.kind, "0")


def field_type(f: Field) -> str:
    t = _base_type(f.base)
    for d in reversed(f.dims):
        t = f"[{t}; {d}]"
    return t


def _zero(f: Field) -> str:
    z = _base_zero(f.base)
    for d in reversed(f.dims):
        z = f"[{z}; {d}]"
    return z


def _doc(doc: List[str], indent: str = "") -> List[str]:
    return line_comment(doc, "///", indent, strip=True)


def _enum(e: Enum) -> List[str]:
    n = e.name
    L = _doc(e.doc)
    L += ["#[repr(transparent)]",
          "#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]",
          f"pub struct {n}(pub {e.base.key});",
          "",
          f"impl {n} {{"]
    for v in e.values:
        L += _doc(v.doc, "    ")
        L.append(f"    pub const {v.short}: {n} = {n}({v.value});")
    L += ["",
          "    /// The name of a declared value, None for any other.",
          "    pub const fn name(self) -> Option<&'static str> {",
          "        match self.0 {"]
    seen = set()
    for v in e.values:
        if v.value not in seen:
            seen.add(v.value)
            L.append(f'            {v.value} => Some("{v.short}"),')
    L += ["            _ => None,",
          "        }",
          "    }",
          "}",
          "",
          f"impl core::fmt::Debug for {n} {{",
          "    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {",
          "        match self.name() {",
          f'            Some(s) => write!(f, "{n}::{{}}", s),',
          f'            None => write!(f, "{n}({{}})", self.0),',
          "        }",
          "    }",
          "}",
          "",
          f"const _: () = assert!(core::mem::size_of::<{n}>() == {e.size});"]
    return L


def _struct(s: Struct) -> List[str]:
    n = s.name
    L = [f"// {layout_note(s)}"]
    L += _doc(s.doc)
    L += ["#[repr(C)]",
          "#[derive(Clone, Copy, Debug, PartialEq)]"]
    if s.fields:
        L.append(f"pub struct {n} {{")
        for f in s.fields:
            L += _doc(f.doc, "    ")
            L.append(f"    pub {rust_ident(f.name)}: {field_type(f)},")
        L.append("}")
    else:
        L.append(f"pub struct {n} {{}}")
    L += ["", f"impl {n} {{"]
    if s.is_message:
        L += [f"    pub const MESSAGE_ID: u32 = {s.id};",
              f'    pub const MESSAGE_NAME: &\'static str = "{n}";',
              f"    pub const SCHEMA_HASH: u64 = 0x{hex16(s.hash)};"]
    L.append("    /// Every field zero (the padding is not part of the value).")
    if s.fields:
        L.append(f"    pub const ZERO: {n} = {n} {{")
        for f in s.fields:
            L.append(f"        {rust_ident(f.name)}: {_zero(f)},")
        L.append("    };")
    else:
        L.append(f"    pub const ZERO: {n} = {n} {{}};")
    L += ["}",
          "",
          f"impl Default for {n} {{",
          "    fn default() -> Self {",
          "        Self::ZERO",
          "    }",
          "}",
          "",
          "const _: () = {",
          f'    assert!(core::mem::size_of::<{n}>() == {s.size}, "{n}: size differs from '
          'axon-msggen");',
          f'    assert!(core::mem::align_of::<{n}>() == {s.align}, "{n}: alignment differs '
          'from axon-msggen");']
    for f in s.fields:
        L.append(f"    assert!(core::mem::offset_of!({n}, {rust_ident(f.name)}) == {f.offset}, "
                 f'"{n}.{f.name}: offset differs from axon-msggen");')
    L.append("};")
    return L


def _tests(h: Header) -> List[str]:
    if not h.structs and not h.enums:
        return []
    L = ["#[cfg(test)]",
         "mod layout_tests {",
         "    use super::*;",
         "    use core::mem::{align_of, size_of};"]
    for s in h.structs:
        n = s.name
        L += ["",
              "    #[test]",
              f"    fn layout_{n}() {{",
              f'        assert_eq!(size_of::<{n}>(), {s.size}, "size of {n}");',
              f'        assert_eq!(align_of::<{n}>(), {s.align}, "align of {n}");']
        for f in s.fields:
            L.append(f"        assert_eq!(core::mem::offset_of!({n}, {rust_ident(f.name)}), "
                     f"{f.offset}, "
                     f'"offset of {n}.{f.name}");')
        if s.is_message:
            L.append(f"        assert_eq!({n}::MESSAGE_ID, {s.id});")
        L.append("    }")
    for e in h.enums:
        L += ["",
              "    #[test]",
              f"    fn layout_{e.name}() {{",
              f'        assert_eq!(size_of::<{e.name}>(), {e.size}, "size of {e.name}");',
              f'        assert_eq!(align_of::<{e.name}>(), {e.align}, "align of {e.name}");',
              "    }"]
    L.append("}")
    return L


def emit(h: Header) -> Dict[str, str]:
    L = line_comment(banner_lines(h), "//!")
    L += ["//!",
          f"//! Use it as a module: `#[path = \"{h.stem}.rs\"] mod {h.stem};`.",
          "#![allow(dead_code, non_camel_case_types, non_snake_case, non_upper_case_globals)]",
          "",
          '#[cfg(not(target_endian = "little"))]',
          'compile_error!("axon messages use the host layout of little-endian machines");',
          "",
          f"/// Schema hash of all messages of {h.basename} (docs/msggen.md).",
          f"pub const FILE_SCHEMA_HASH: u64 = 0x{hex16(h.hash)};",
          "",
          "/// What the C registry knows about a message type.",
          "#[derive(Clone, Copy, Debug, PartialEq, Eq)]",
          "pub struct MessageInfo {",
          "    pub id: u32,",
          "    pub name: &'static str,",
          "    pub schema_hash: u64,",
          "    pub size: usize,",
          "    pub align: usize,",
          "}"]
    for item in h.items:
        L.append("")
        if isinstance(item, Const):
            L += _doc(item.doc)
            ty = "usize" if item.value >= 0 else "i64"
            L.append(f"pub const {item.name}: {ty} = {item.value};")
        elif isinstance(item, Enum):
            L += _enum(item)
        else:
            L += _struct(item)
    L += ["", f"/// Every message of {h.basename}, in declaration order.",
          "pub const MESSAGES: &[MessageInfo] = &["]
    for m in h.messages:
        L.append(f'    MessageInfo {{ id: {m.id}, name: "{m.name}", schema_hash: '
                 f"0x{hex16(m.hash)}, size: {m.size}, align: {m.align} }},")
    L += ["];", ""]
    L += _tests(h)
    return {f"{h.stem}.rs": write_lines(L)}

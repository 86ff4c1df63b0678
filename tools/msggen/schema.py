"""Schema hashes: FNV-1a 64 over a canonical text form (docs/msggen.md).

The canonical text of a type lists, one per line and '\\n'-terminated:

    axon-schema 1
    message RiskCheck id=1020 size=40 align=8      (or: struct Name size=.. align=..)
    field order_id i64 offset=0 size=8
    field symbol char[8] offset=8 size=8
    field side enum:Side#3f2c...e1 offset=32 size=4

and for an enum:

    axon-schema 1
    enum Side base=i32
    value SIDE_BUY 0

A field's type is a primitive (i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 bool
char), `struct:Name#HASH` or `enum:Name#HASH` with the nested type's own hash
as 16 lowercase hex digits (so a change inside a nested type changes every
type that contains it), followed by one [N] per array dimension.  Comments,
constants' names and the header's file name do not take part.

The file hash covers every message of a header, sorted by id:

    axon-schema 1
    file
    message RiskCheck 1020 3f2c...e1
"""

from .model import Enum, Field, Header, Struct

VERSION = 1
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def fnv1a64(data: bytes) -> int:
    h = FNV_OFFSET
    for b in data:
        h ^= b
        h = (h * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def hex16(h: int) -> str:
    return f"{h:016x}"


def type_spelling(f: Field) -> str:
    b = f.base
    if isinstance(b, Struct):
        s = f"struct:{b.name}#{hex16(b.hash)}"
    elif isinstance(b, Enum):
        s = f"enum:{b.name}#{hex16(b.hash)}"
    else:
        s = b.key
    return s + "".join(f"[{d}]" for d in f.dims)


def enum_text(e: Enum) -> str:
    lines = [f"axon-schema {VERSION}", f"enum {e.name} base={e.base.key}"]
    lines += [f"value {v.name} {v.value}" for v in e.values]
    return "\n".join(lines) + "\n"


def struct_text(s: Struct) -> str:
    if s.is_message:
        head = f"message {s.name} id={s.id} size={s.size} align={s.align}"
    else:
        head = f"struct {s.name} size={s.size} align={s.align}"
    lines = [f"axon-schema {VERSION}", head]
    lines += [f"field {f.name} {type_spelling(f)} offset={f.offset} size={f.size}"
              for f in s.fields]
    return "\n".join(lines) + "\n"


def file_text(h: Header) -> str:
    lines = [f"axon-schema {VERSION}", "file"]
    lines += [f"message {m.name} {m.id} {hex16(m.hash)}"
              for m in sorted(h.messages, key=lambda m: m.id)]
    return "\n".join(lines) + "\n"


def compute(h: Header) -> None:
    """Fill in canonical text and hash of every enum, struct and the file.
    Items are in declaration order, so nested types are hashed first."""
    for item in h.items:
        if isinstance(item, Enum):
            item.canonical = enum_text(item)
        elif isinstance(item, Struct):
            item.canonical = struct_text(item)
        else:
            continue
        item.hash = fnv1a64(item.canonical.encode("utf-8"))
    h.canonical = file_text(h)
    h.hash = fnv1a64(h.canonical.encode("utf-8"))

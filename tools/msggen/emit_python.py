"""Python output: STEM.py with one ctypes.Structure subclass per struct and
message (messages carry MESSAGE_ID, MESSAGE_NAME and SCHEMA_HASH), one
enum.IntEnum per enum, and a check at import time that ctypes lays every
struct out as axon-msggen did.
"""

from typing import Dict, List

from .common import banner_lines, layout_note, line_comment, write_lines
from .model import Const, Enum, Field, Header, Struct
from .schema import hex16

_CTYPES = {"i8": "c_int8", "i16": "c_int16", "i32": "c_int32", "i64": "c_int64",
           "u8": "c_uint8", "u16": "c_uint16", "u32": "c_uint32", "u64": "c_uint64",
           "f32": "c_float", "f64": "c_double", "bool": "c_bool", "char": "c_char"}


def field_ctype(f: Field) -> str:
    b = f.base
    if isinstance(b, Struct):
        t = b.name
    elif isinstance(b, Enum):
        t = "_ct." + _CTYPES[b.base.key]
    else:
        t = "_ct." + _CTYPES[b.key]
    for d in reversed(f.dims):
        t = f"({t}) * {d}" if " * " in t else f"{t} * {d}"
    return t


def docstring(doc: List[str], indent: str) -> List[str]:
    if not doc:
        return []
    text = "\n".join(doc).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    lines = text.split("\n")
    if len(lines) == 1:
        return [f'{indent}"""{lines[0]}"""']
    out = [f'{indent}"""{lines[0]}']
    out += [f"{indent}{ln}" if ln else "" for ln in lines[1:]]
    out.append(f'{indent}"""')
    return out


def _enum(e: Enum) -> List[str]:
    L = ["", "", f"class {e.name}(_enum.IntEnum):"]
    L += docstring(e.doc + ([""] if e.doc else []) + [f"Stored as {e.base.c}."], "    ")
    L.append("")
    for v in e.values:
        L += line_comment(v.doc, "#:", "    ")
        L.append(f"    {v.short} = {v.value}")
    return L


def _struct(s: Struct) -> List[str]:
    L = ["", "", f"class {s.name}(_ct.Structure):"]
    doc = list(s.doc) + ([""] if s.doc else []) + [layout_note(s) + "."]
    L += docstring(doc, "    ")
    L.append("")
    if s.is_message:
        L += [f"    MESSAGE_ID = {s.id}",
              f'    MESSAGE_NAME = "{s.name}"',
              f"    SCHEMA_HASH = 0x{hex16(s.hash)}"]
    if not s.fields:
        L.append("    _fields_ = []")
        return L
    L.append("    _fields_ = [")
    for f in s.fields:
        L += line_comment(f.doc, "#", "        ")
        note = f"  # {f.base.name}" if isinstance(f.base, Enum) else ""
        L.append(f'        ("{f.name}", {field_ctype(f)}),{note}')
    L.append("    ]")
    return L


def emit(h: Header) -> Dict[str, str]:
    public = [i.name for i in h.items]
    L = docstring(banner_lines(h), "")
    L += ["",
          "import ctypes as _ct",
          "import enum as _enum",
          "import sys as _sys",
          "",
          'if _sys.byteorder != "little":',
          f'    raise ImportError("{h.stem}: axon messages use the host layout of '
          'little-endian machines")',
          "",
          "__all__ = ["]
    L += [f'    "{n}",' for n in ["FILE_SCHEMA_HASH", "MESSAGES"] + public]
    L += ["]",
          "",
          f"#: Schema hash of all messages of {h.basename} (docs/msggen.md).",
          f"FILE_SCHEMA_HASH = 0x{hex16(h.hash)}"]
    for item in h.items:
        if isinstance(item, Const):
            L.append("")
            L += line_comment(item.doc, "#:")
            L.append(f"{item.name} = {item.value}")
        elif isinstance(item, Enum):
            L += _enum(item)
        else:
            L += _struct(item)
    names = ", ".join(m.name for m in h.messages)
    L += ["", "",
          f"#: Every message of {h.basename}, in declaration order.",
          f"MESSAGES = ({names}{',' if len(h.messages) == 1 else ''})",
          "",
          "# (class, size, align, ((field, offset), ...)) as axon-msggen computed them.",
          "_LAYOUT = ("]
    for s in h.structs:
        offs = "".join(f'("{f.name}", {f.offset}), ' for f in s.fields).rstrip(", ")
        if len(s.fields) == 1:
            offs += ","
        L.append(f"    ({s.name}, {s.size}, {s.align}, ({offs})),")
    L += [")",
          "",
          "",
          "def _check_layout():",
          "    for cls, size, align, offsets in _LAYOUT:",
          "        got = (_ct.sizeof(cls), _ct.alignment(cls))",
          "        if got != (size, align):",
          "            raise ImportError(",
          f'                f"{h.stem}: {{cls.__name__}} has size, align {{got}} in ctypes, "',
          '                f"axon-msggen computed {(size, align)}")',
          "        for name, offset in offsets:",
          "            if getattr(cls, name).offset != offset:",
          "                raise ImportError(",
          f'                    f"{h.stem}: {{cls.__name__}}.{{name}} is at offset "',
          '                    f"{getattr(cls, name).offset} in ctypes, axon-msggen computed "',
          '                    f"{offset}")',
          "",
          "",
          "_check_layout()"]
    return {f"{h.stem}.py": write_lines(L)}

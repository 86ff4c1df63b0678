"""C++ output: STEM.hpp with layout-identical structs, enum classes,
axon::message_traits specialisations and static_asserts.

The header needs only <cstddef>, <cstdint> and <type_traits>.  It replaces
the IDL header in C++ code (both declare the same type names).
"""

from typing import Dict, List

from .common import banner_lines, layout_note, line_comment, write_lines
from .model import Const, Enum, Field, Header, Struct
from .schema import hex16


def _cpp_type(f: Field) -> str:
    b = f.base
    if isinstance(b, (Struct, Enum)):
        return b.name
    if b.kind == "int":
        return "std::" + b.c
    return b.c


def _enum(e: Enum) -> List[str]:
    L = line_comment(e.doc, "///")
    L.append(f"enum class {e.name} : std::{e.base.c} {{")
    for v in e.values:
        L += line_comment(v.doc, "///", "    ")
        L.append(f"    {v.short} = {v.value},")
    L.append("};")
    L.append(f'static_assert(sizeof({e.name}) == {e.size}, "{e.name}: size differs from '
             'axon-msggen");')
    return L


def _struct(s: Struct) -> List[str]:
    n = s.name
    L = line_comment(s.doc, "///")
    L.append(f"struct {n} {{")
    if s.is_message:
        L += [
            f"    static constexpr std::uint32_t MESSAGE_ID = {s.id}u;",
            f'    static constexpr const char *MESSAGE_NAME = "{n}";',
            f"    static constexpr std::uint64_t SCHEMA_HASH = 0x{hex16(s.hash)}ull;",
        ]
        if s.fields:
            L.append("")
    for f in s.fields:
        L += line_comment(f.doc, "///", "    ")
        dims = "".join(f"[{d}]" for d in f.dims)
        L.append(f"    {_cpp_type(f)} {f.name}{dims};")
    L.append("};")
    L.append(f"// {layout_note(s)}")
    if not s.empty:
        L += [
            f'static_assert(sizeof({n}) == {s.size}, "{n}: size differs from axon-msggen");',
            f'static_assert(alignof({n}) == {s.align}, "{n}: alignment differs from '
            'axon-msggen");',
        ]
        for f in s.fields:
            L.append(f'static_assert(offsetof({n}, {f.name}) == {f.offset}, "{n}.{f.name}: '
                     'offset differs from axon-msggen");')
    L.append(f"static_assert(std::is_trivially_copyable<{n}>::value && "
             f'std::is_standard_layout<{n}>::value, "{n}: must be plain bytes");')
    if s.is_message:
        L += [
            "",
            "namespace axon {",
            f"template <> struct message_traits<::{n}> {{",
            f"    static constexpr std::uint32_t id = {s.id}u;",
            f'    static constexpr const char *name = "{n}";',
            f"    static constexpr std::uint64_t schema_hash = 0x{hex16(s.hash)}ull;",
            f"    /// Payload bytes on the wire and in the registry ({'0: sizeof is 1 in C++, send no bytes' if s.empty else 'sizeof'}).",
            f"    static constexpr std::size_t size = {s.size};",
            f"    static constexpr std::size_t align = {s.align};",
            "};",
            "} // namespace axon",
        ]
    return L


def emit(h: Header) -> Dict[str, str]:
    guard = f"AXON_GEN_{h.stem.upper()}_HPP"
    L = line_comment(banner_lines(h), "//")
    L += [
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        "#include <cstddef>",
        "#include <cstdint>",
        "#include <type_traits>",
        "",
        "#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__",
        '#error "axon messages use the host layout of little-endian machines (docs/msggen.md)"',
        "#endif",
        "",
        "struct ax_system;",
        "",
        "namespace axon {",
        "/// Compile-time facts about a message type: id, name, schema_hash, size,",
        "/// align.  Specialised for every generated message.",
        "template <class T> struct message_traits;",
        "} // namespace axon",
        "",
        f"/// Schema hash of all messages of {h.basename} (docs/msggen.md).",
        f"inline constexpr std::uint64_t {h.stem.upper()}_SCHEMA_HASH = 0x{hex16(h.hash)}ull;",
    ]
    for item in h.items:
        L.append("")
        if isinstance(item, Const):
            L += line_comment(item.doc, "///")
            ty = "std::size_t" if item.value >= 0 else "std::int64_t"
            L.append(f"inline constexpr {ty} {item.name} = {item.value};")
        elif isinstance(item, Enum):
            L += _enum(item)
        else:
            L += _struct(item)
    L += [
        "",
        f"/// Registers every message of {h.basename} with the C registry; defined",
        f"/// in the generated {h.stem}.axon.c, which must be linked in to call it.",
        f'extern "C" int {h.stem}_register(struct ax_system *sys);',
        "",
        f"#endif // {guard}",
    ]
    return {f"{h.stem}.hpp": write_lines(L)}

"""C output: STEM.axon.h (ids, hashes, prototypes) and STEM.axon.c (the
type table, the registration function and the layout assertions).

The message structs themselves are the IDL header's: the C output includes
it, so C code uses exactly the declarations the user wrote.
"""

from typing import Dict, List

from .common import banner_lines, block_comment, layout_note, write_lines
from .model import Enum, Field, Header, Struct
from .schema import hex16


def _c_type(f: Field) -> str:
    b = f.base
    if isinstance(b, (Struct, Enum)):
        return b.name
    return "_Bool" if b.key == "bool" else b.c


def header_guard(h: Header) -> str:
    return f"AXON_GEN_{h.stem.upper()}_AXON_H"


def emit_header(h: Header, include_prefix: str = "") -> str:
    L: List[str] = block_comment(banner_lines(h))
    L += [
        f"#ifndef {header_guard(h)}",
        f"#define {header_guard(h)}",
        "",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "",
        f'#include "{include_prefix}{h.basename}"',
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        "struct ax_system;",
        "struct ax_msg_type;",
        "",
        f"/* Schema hash of all messages of {h.basename} (docs/msggen.md). */",
        f"#define {h.stem.upper()}_SCHEMA_HASH UINT64_C(0x{hex16(h.hash)})",
    ]
    for m in h.messages:
        L.append("")
        L += block_comment(m.doc)
        L.append(f"#define {m.name}_MESSAGE_ID {m.id}u")
        L.append(f"#define {m.name}_SCHEMA_HASH UINT64_C(0x{hex16(m.hash)})")
    L += [
        "",
        f"/* Register every message type of {h.basename} in `sys`, in declaration",
        " * order.  Returns 0, or the first error of ax_msg_register() (the types",
        " * before it stay registered; calling it twice gives AX_EEXIST). */",
        f"int {h.stem}_register(struct ax_system *sys);",
        "",
        f"/* The type table of {h.basename}: *count receives the number of entries.",
        " * The table is static and lives as long as the program. */",
        f"const struct ax_msg_type *{h.stem}_message_types(size_t *count);",
        "",
        "#ifdef __cplusplus",
        "}",
        "#endif",
        f"#endif /* {header_guard(h)} */",
    ]
    return write_lines(L)


def _asserts(s: Struct) -> List[str]:
    n = s.name
    L = [f"/* {layout_note(s)} */"]
    if s.empty:
        L.append(f'_Static_assert(AX_MSG_ID({n}) == {s.id}u, "{n}: AX_MESSAGE id differs");')
        return L
    L.append(f'_Static_assert(sizeof({n}) == {s.size}, "{n}: size differs from axon-msggen");')
    L.append(f'_Static_assert(_Alignof({n}) == {s.align}, "{n}: alignment differs from '
             'axon-msggen");')
    if s.is_message:
        L.append(f'_Static_assert(AX_MSG_ID({n}) == {s.id}u, "{n}: AX_MESSAGE id differs");')
    for f in s.fields:
        where = f"{n}.{f.name}"
        L.append(f'_Static_assert(offsetof({n}, {f.name}) == {f.offset}, "{where}: offset '
                 'differs from axon-msggen");')
        L.append(f'_Static_assert(sizeof((({n} *)0)->{f.name}) == {f.size}, "{where}: size '
                 'differs from axon-msggen");')
        elem = f"(({n} *)0)->{f.name}" + "[0]" * len(f.dims)
        L.append(f'_Static_assert(_Generic({elem}, {_c_type(f)}: 1, default: 0), "{where}: '
                 f'element type is not {_c_type(f)}");')
    return L


def _enum_asserts(e: Enum) -> List[str]:
    L = [f'_Static_assert(sizeof({e.name}) == {e.size}, "{e.name}: size differs from '
         'axon-msggen");',
         f'_Static_assert(_Generic(({e.name})0, {e.base.c}: 1, default: 0), "{e.name}: '
         f'type is not {e.base.c}");']
    for v in e.values:
        L.append(f'_Static_assert({v.name} == {v.value}, "{v.name}: value differs from '
                 'axon-msggen");')
    return L


def emit_source(h: Header) -> str:
    stem = h.stem
    L: List[str] = block_comment(banner_lines(h))
    L += [
        f'#include "{stem}.axon.h"',
        "",
        "#include <axon/msg.h>",
        "",
        "#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__",
        '#error "axon messages use the host layout of little-endian machines (docs/msggen.md)"',
        "#endif",
        "",
        "/* The layout axon-msggen computed; the compiler must agree. */",
        '_Static_assert(sizeof(_Bool) == 1, "axon messages need a 1-byte bool");',
    ]
    for item in h.items:
        if isinstance(item, Enum):
            L.append("")
            L += _enum_asserts(item)
        elif isinstance(item, Struct):
            L.append("")
            L += _asserts(item)
    msgs = h.messages
    L.append("")
    if msgs:
        L.append(f"static const ax_msg_type {stem}_types[] = {{")
        for m in msgs:
            L += [
                "    {",
                f"        .id = {m.id}u,",
                f'        .name = "{m.name}",',
                f"        .size = {m.size}u,",
                f"        .align = {m.align}u,",
                "        .flags = 0u,",
                f"        .layout_hash = UINT64_C(0x{hex16(m.hash)}),",
                "        .serialize = NULL,",
                "        .deserialize = NULL,",
                "        .free = NULL,",
                "    },",
            ]
        L += [
            "};",
            "",
            f"#define {stem.upper()}_NTYPES (sizeof {stem}_types / sizeof {stem}_types[0])",
            "",
            f"int {stem}_register(ax_system *sys)",
            "{",
            f"    for (size_t i = 0; i < {stem.upper()}_NTYPES; i++) {{",
            f"        int rc = ax_msg_register(sys, &{stem}_types[i]);",
            "        if (rc < 0)",
            "            return rc;",
            "    }",
            "    return 0;",
            "}",
            "",
            f"const ax_msg_type *{stem}_message_types(size_t *count)",
            "{",
            "    if (count)",
            f"        *count = {stem.upper()}_NTYPES;",
            f"    return {stem}_types;",
            "}",
        ]
    else:
        L += [
            f"/* {h.basename} declares no messages. */",
            f"int {stem}_register(ax_system *sys)",
            "{",
            "    (void)sys;",
            "    return 0;",
            "}",
            "",
            f"const ax_msg_type *{stem}_message_types(size_t *count)",
            "{",
            "    if (count)",
            "        *count = 0;",
            "    return NULL;",
            "}",
        ]
    return write_lines(L)


def emit(h: Header, include_prefix: str = "") -> Dict[str, str]:
    return {f"{h.stem}.axon.h": emit_header(h, include_prefix),
            f"{h.stem}.axon.c": emit_source(h)}

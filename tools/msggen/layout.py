"""Struct layout by the C ABI rules of every platform axon supports.

x86-64 System V and AArch64 AAPCS64 (Linux and macOS) agree for the field
types the IDL allows:

* every primitive is aligned to its size (bool and char are 1 byte);
* an array has the size of its elements times the count and their alignment;
* a field is placed at the next offset that is a multiple of its alignment;
* a struct is aligned to its most aligned field, and its size is rounded up
  to that alignment (tail padding), so arrays of it keep every element
  aligned.

The tool computes the layout itself and every generated file asserts it
(C _Static_assert, C++ static_assert, Rust const asserts and #[test]s, a
Python import-time check), so a compiler that disagrees stops the build
instead of silently sending different bytes.
"""

from . import names
from .model import MAX_SIZE, Enum, Field, MsgGenError, Struct


def align_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def check_field_size(f: Field) -> None:
    if f.size > MAX_SIZE:
        raise MsgGenError(f.loc, f"field '{f.name}' is {f.size} bytes, more than the largest "
                          f"message payload ({MAX_SIZE} bytes = 16 MiB); make the array smaller")


def layout_struct(s: Struct) -> None:
    """Set every field's offset and the struct's size and alignment."""
    if s.empty:
        s.size, s.align = 0, 1
        return
    off = 0
    align = 1
    for f in s.fields:
        off = align_up(off, f.align)
        f.offset = off
        off += f.size
        align = max(align, f.align)
    s.align = align
    s.size = align_up(off, align)
    if s.size > MAX_SIZE:
        raise MsgGenError(s.loc, f"{s.name} is {s.size} bytes, more than the largest message "
                          f"payload ({MAX_SIZE} bytes = 16 MiB); make its arrays smaller")


def short_enumerator_names(e: Enum) -> None:
    """Name enumerators inside their enum in C++, Rust and Python.

    C enumerators share one namespace, so they are usually prefixed with the
    enum's name: AX_ENUM(OrdType, ...) { ORD_TYPE_LIMIT, ORD_TYPE_MARKET }.
    When every enumerator starts with UPPER_SNAKE(Name) + '_' and what is
    left is a usable name everywhere, the prefix is dropped (OrdType::LIMIT);
    otherwise every enumerator keeps its C name.
    """
    prefix = names.upper_snake(e.name) + "_"
    shorts = []
    for v in e.values:
        rest = v.name[len(prefix):] if v.name.startswith(prefix) else ""
        if (not rest or rest[0].isdigit() or names.problem(rest, "enumerator")
                or rest in names.RUST_KEYWORDS):
            shorts = None
            break
        shorts.append(rest)
    if shorts is None or len(set(shorts)) != len(shorts):
        shorts = [v.name for v in e.values]
    for v, short in zip(e.values, shorts):
        v.short = short

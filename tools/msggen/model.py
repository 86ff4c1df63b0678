"""The message model: what the parser builds and the emitters read.

Every object keeps the file and line it came from, so that any later check
(layout, duplicates across files) can still point the user at the source.
"""

from dataclasses import dataclass, field
from typing import List, Optional, Tuple, Union

# Message ids: the documented user range of include/axon/msg.h.
ID_MIN = 1
ID_MAX = 0xFFFEFFFF
SYSTEM_BASE = 0xFFFF0000
# The largest payload one message may carry (AX_MSG_MAX_SIZE).
MAX_SIZE = 16 * 1024 * 1024


class MsgGenError(Exception):
    """An input error: printed as `file:line: error: message`."""

    def __init__(self, loc: "Loc", message: str):
        super().__init__(message)
        self.loc = loc
        self.message = message

    def __str__(self) -> str:
        return f"{self.loc}: error: {self.message}"


@dataclass(frozen=True)
class Loc:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Prim:
    """A primitive field type.  Sizes and alignments are those of the C ABI
    of every platform axon supports (x86-64 and AArch64 Linux, macOS)."""

    key: str  # canonical name used in the schema text: i32, f64, bool, char
    c: str  # C spelling
    size: int
    kind: str  # "int", "float", "bool", "char"
    signed: bool = False

    @property
    def align(self) -> int:
        return self.size

    @property
    def bits(self) -> int:
        return self.size * 8

    def int_range(self) -> Tuple[int, int]:
        if self.signed:
            return -(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1
        return 0, (1 << self.bits) - 1


PRIMS = {
    p.c: p
    for p in (
        Prim("i8", "int8_t", 1, "int", True),
        Prim("i16", "int16_t", 2, "int", True),
        Prim("i32", "int32_t", 4, "int", True),
        Prim("i64", "int64_t", 8, "int", True),
        Prim("u8", "uint8_t", 1, "int"),
        Prim("u16", "uint16_t", 2, "int"),
        Prim("u32", "uint32_t", 4, "int"),
        Prim("u64", "uint64_t", 8, "int"),
        Prim("f32", "float", 4, "float", True),
        Prim("f64", "double", 8, "float", True),
        Prim("bool", "bool", 1, "bool"),
        Prim("char", "char", 1, "char"),
    )
}


@dataclass
class Const:
    """`#define NAME 123`: an integer usable as an array length or id."""

    name: str
    value: int
    loc: Loc
    doc: List[str] = field(default_factory=list)


@dataclass
class Enumerator:
    name: str  # as written in C (SIDE_BUY)
    value: int
    loc: Loc
    doc: List[str] = field(default_factory=list)
    short: str = ""  # name inside the enum in C++/Rust/Python (BUY)


@dataclass
class Enum:
    """AX_ENUM(Name, int32_t) { ... }: a fixed-width integer with names."""

    name: str
    base: Prim
    values: List[Enumerator]
    loc: Loc
    doc: List[str] = field(default_factory=list)
    hash: int = 0
    canonical: str = ""

    @property
    def size(self) -> int:
        return self.base.size

    @property
    def align(self) -> int:
        return self.base.align


@dataclass
class Field:
    name: str
    base: Union[Prim, Enum, "Struct"]
    dims: Tuple[int, ...]  # () for a scalar; (3, 4) for x[3][4]
    loc: Loc
    doc: List[str] = field(default_factory=list)
    offset: int = 0

    @property
    def count(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n

    @property
    def size(self) -> int:
        return self.base.size * self.count

    @property
    def align(self) -> int:
        return self.base.align


@dataclass
class Struct:
    """A struct declared with AX_MESSAGE (id set), AX_EMPTY_MESSAGE (id set,
    no fields) or AX_STRUCT (id None: usable only nested in messages)."""

    name: str
    id: Optional[int]
    fields: List[Field]
    loc: Loc
    doc: List[str] = field(default_factory=list)
    empty: bool = False
    size: int = 0
    align: int = 1
    hash: int = 0
    canonical: str = ""

    @property
    def is_message(self) -> bool:
        return self.id is not None

    def padding(self) -> List[Tuple[int, int, str]]:
        """(offset, bytes, after-field) for every gap the C ABI inserts."""
        gaps = []
        end = 0
        prev = "the start"
        for f in self.fields:
            if f.offset > end:
                gaps.append((end, f.offset - end, prev))
            end = f.offset + f.size
            prev = f.name
        if self.size > end:
            gaps.append((end, self.size - end, prev))
        return gaps


Item = Union[Const, Enum, Struct]


@dataclass
class Header:
    path: str  # as given on the command line (used in messages)
    stem: str  # file name without .h: the module name
    items: List[Item] = field(default_factory=list)
    doc: List[str] = field(default_factory=list)
    hash: int = 0
    canonical: str = ""

    @property
    def consts(self) -> List[Const]:
        return [i for i in self.items if isinstance(i, Const)]

    @property
    def enums(self) -> List[Enum]:
        return [i for i in self.items if isinstance(i, Enum)]

    @property
    def structs(self) -> List[Struct]:
        return [i for i in self.items if isinstance(i, Struct)]

    @property
    def messages(self) -> List[Struct]:
        return [s for s in self.structs if s.is_message]

    @property
    def basename(self) -> str:
        return self.stem + ".h"


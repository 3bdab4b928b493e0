"""Declarative source -> unified mapping (`spec`: the spec language a connector writes) and its
one engine (`compiled`, `codegen`: a generated function per entity). Imports only `include.model`.

``from include.mapping import CompiledMapping, EntityMapping, MappingError`` keep working."""

from include.mapping.compiled import CompiledMapping
from include.mapping.spec import (
    EntityMapping,
    Getter,
    MappedRecord,
    Mapper,
    MappingError,
    _getter,
    compile_spec,
)

__all__ = [
    "CompiledMapping", "EntityMapping", "Getter", "MappedRecord", "Mapper", "MappingError",
    "_getter", "compile_spec",
]  # fmt: skip

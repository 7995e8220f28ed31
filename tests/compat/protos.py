"""The original protos and Streamify's side by side, read from descriptors protoc writes (never
loaded into this process's descriptor pool, where the two `auth` packages would clash)."""

import tempfile
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pb2
from grpc_tools import protoc

from common.paths import REPO_ROOT

ORIGINAL = Path(__file__).parent / "original"
STREAMIFY = REPO_ROOT / "protos"
FILES = ("auth.proto", "video.proto")
T = descriptor_pb2.FieldDescriptorProto
# The same varint on the wire: each reads the other's values (within int32's range).
SAME_WIRE = {frozenset({T.TYPE_INT32, T.TYPE_INT64})}
TYPE_NAMES = {
    value: name.removeprefix("TYPE_").lower()
    for name, value in T.Type.items()
    if name not in ("TYPE_MESSAGE", "TYPE_GROUP")
}


@dataclass(frozen=True)
class Field:
    number: int
    name: str
    type: int
    type_name: str
    repeated: bool

    def __str__(self) -> str:
        kind = self.type_name.rsplit(".", 1)[-1] if self.type == T.TYPE_MESSAGE else None
        kind = kind or TYPE_NAMES[self.type]
        return f"`{self.name}` {'repeated ' if self.repeated else ''}{kind}"

    def reads_as(self, other: "Field") -> bool:
        """Whether a client that knows `other` reads this field as the same thing."""
        same_type = self.type == other.type or frozenset({self.type, other.type}) in SAME_WIRE
        return (
            self.name == other.name
            and same_type
            and self.type_name == other.type_name
            and self.repeated == other.repeated
        )


def _described(folder: Path) -> descriptor_pb2.FileDescriptorSet:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.pb"
        args = ["protoc", f"-I{folder}", f"--descriptor_set_out={out}", *FILES]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed on {folder}")
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def rpcs(folder: Path) -> dict[str, tuple[str, str]]:
    """`package.Service/Method` -> (request type, response type), for the protos in `folder`."""
    return {
        f"{proto.package}.{service.name}/{method.name}": (method.input_type, method.output_type)
        for proto in _described(folder).file
        for service in proto.service
        for method in service.method
    }


def messages(folder: Path) -> dict[str, dict[int, Field]]:
    """`package.Message` -> field number -> field, for the protos in `folder`."""
    found = _described(folder)
    return {
        f"{proto.package}.{message.name}": {
            field.number: Field(
                field.number,
                field.name,
                field.type,
                field.type_name,
                field.label == T.LABEL_REPEATED,
            )
            for field in message.field
        }
        for proto in found.file
        for message in proto.message_type
    }


def side_by_side() -> list[str]:
    """The rows of docs/compat.md's gRPC table: every field of every original message, and
    what Streamify has at that number (and after it, what Streamify adds)."""
    original, streamify = messages(ORIGINAL), messages(STREAMIFY)
    rows = []
    for name, fields in original.items():
        ours = streamify.get(name, {})
        for number in sorted(fields.keys() | ours.keys()):
            before, now = fields.get(number), ours.get(number)
            if before is None and now is None:
                continue
            kept = "yes" if before and now and now.reads_as(before) else "–"
            if before is None:
                kept = "added"
            rows.append(f"| `{name}` | {number} | {before or '–'} | {now or 'missing'} | {kept} |")
    return rows

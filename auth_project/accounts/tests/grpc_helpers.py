"""Calling a server the way grpcurl does: learn everything from server reflection."""

import grpc
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


def reflected_services(channel: grpc.Channel) -> list[str]:
    return sorted(ProtoReflectionDescriptorDatabase(channel).get_services())


def call_by_reflection(channel: grpc.Channel, full_method: str, fields: dict | None = None):
    """Invoke `package.Service/Method` with no generated code: types come from reflection."""
    service_name, method_name = full_method.split("/")
    pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
    method = pool.FindServiceByName(service_name).FindMethodByName(method_name)
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    stub = channel.unary_unary(
        f"/{full_method}",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )
    return stub(request_class(**(fields or {})), timeout=5)

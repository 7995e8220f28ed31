"""gRPC between the services: generated modules (`protos`), serving (`server`), calling
(`client`), and how a service's refusals become status codes (`status`)."""

"""The gRPC adapter: the SLA manager service, its client and the protobuf mapping."""

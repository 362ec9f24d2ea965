"""Prometheus metrics of the gRPC server: calls by method and status, latency."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeAlias

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram

Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"


class MetricsInterceptor(grpc.ServerInterceptor):
    """Counts every unary call by method and status code, and times it.

    Metrics: ``monitoring_sla_grpc_calls_total{method, code}`` and
    ``monitoring_sla_grpc_call_seconds{method}``.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._calls = Counter(
            "monitoring_sla_grpc_calls",
            "gRPC calls answered, by method and status code.",
            ["method", "code"],
            registry=registry,
        )
        self._seconds = Histogram(
            "monitoring_sla_grpc_call_seconds",
            "Time to answer a gRPC call.",
            ["method"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        """Wrap unary-unary handlers; leave streaming ones (health Watch) alone."""
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method.rsplit("/", 1)[-1]
        inner = handler.unary_unary

        def observed(request: Any, context: grpc.ServicerContext) -> Any:
            started = time.perf_counter()
            code = "OK"
            try:
                return inner(request, context)
            except Exception:
                status = context.code()  # type: ignore[attr-defined]  # grpc >= 1.38
                code = status.name if status is not None else "UNKNOWN"
                raise
            finally:
                self._calls.labels(method, code).inc()
                self._seconds.labels(method).observe(time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            observed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

"""Thin services and their wiring: one package per service, plus the CLI."""

import os

# gRPC's C core logs TLS handshake failures and the like at INFO on stderr; a
# CLI error must stay one line. Set before anything imports grpc.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

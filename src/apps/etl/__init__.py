"""The ETL service: Prometheus in, results on Kafka."""

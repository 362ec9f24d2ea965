"""The storage service: Kafka results into a SQL database."""

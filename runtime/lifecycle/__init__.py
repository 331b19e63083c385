"""Pod lifecycle rules the supervisor applies: restart policies and the crash-loop backoff."""

"""Processes: the parent/child handshake, the container init, the user namespace worker."""

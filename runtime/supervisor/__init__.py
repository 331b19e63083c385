"""The supervisor: one process per user that owns every detached pod's processes (see ARCHITECTURE.md)."""

"""The container's root filesystem: what to mount (planned in the parent), and mounting it (in the init)."""

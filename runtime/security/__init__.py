"""Privileges: capability sets and seccomp filters, computed in the parent, applied by the init."""

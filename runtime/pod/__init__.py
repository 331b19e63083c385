"""Pods: the sandbox every container joins, volumes, configuration, and running a whole pod."""

"""Pod networking: IP addresses, the podbay0 bridge and veth pairs (pyroute2), hostPort forwarding."""

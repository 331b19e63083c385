"""cgroup v2: where podbay's groups go (hierarchy), the kubelet's requests-and-limits mapping
(resources), the manager of the tree (manager), one pod's groups (pod), usage figures (stats) and
OOM kills as they happen (oomwatch). No third-party library: cgroupspy knows only cgroup v1."""

"""The workload controllers (ReplicaSet, Deployment ...) and the manager that runs them in the supervisor."""

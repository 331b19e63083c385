#!/usr/bin/env bash
# For people with Vagrant, one command: the VM up (created and provisioned the first time), this
# checkout synced into it, and the VM suite run there (vagrant/run-tests.sh; arguments go to its
# first pass, e.g. `vagrant/test.sh tests/` for the whole suite as well).
set -euo pipefail
cd "$(dirname "$0")/.."
vagrant up
vagrant rsync
args=$(printf ' %q' "$@")
vagrant ssh -c "sudo /vagrant/vagrant/run-tests.sh${args}"

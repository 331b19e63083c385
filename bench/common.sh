# Sourced by the benchmarks: bench_prepare NAME PACKAGE... installs what is missing, sets podbay up,
# and makes OUT=build/NAME with the image, bundles and pods of bench/prepare.py, loaded into
# podbay's and podman's stores (both kept under OUT). Exports OUT, PODMAN and the stores' settings.
bench_prepare() {
    local name=$1 need=() pkg
    shift
    [ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
    if [ "${#need[@]}" -gt 0 ]; then
        echo "bench: installing ${need[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    fi
    bash scripts/setup.sh
    export OUT=$PWD/build/$name
    rm -rf "$OUT"
    mkdir -p "$OUT"
    .venv/bin/python bench/prepare.py "$OUT"
    export PODBAY_DATA_DIR=$OUT/podbay/data PODBAY_RUN_DIR=$OUT/podbay/run CONTAINERS_CONF=$OUT/containers.conf
    export PODMAN="podman --root $OUT/podman/root --runroot $OUT/podman/run --storage-driver overlay"
    .venv/bin/podbay image load "$OUT/image.tar" >/dev/null
    $PODMAN load -q -i "$OUT/image.tar" >/dev/null
}

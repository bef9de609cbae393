# Sourced by the scripts in this folder: finds the tcplab binary. $TCPLAB wins when set; otherwise
# the release build of this checkout is made and taken from wherever cargo puts it (it honours
# CARGO_TARGET_DIR and the build.target-dir setting, which cargo metadata reports).
# Needs: $root set to the checkout's top folder.

tcplab_bin() {
    if [[ -n "${TCPLAB:-}" ]]; then
        printf '%s\n' "$TCPLAB"
        return
    fi
    (cd "$root" && cargo build --release --quiet) >&2
    local dir
    dir=$(cd "$root" && cargo metadata --format-version 1 --no-deps |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    printf '%s\n' "$dir/release/tcplab"
}

#!/bin/sh
# Install ecs-anywhere on a host without a package manager (what the .deb/.rpm would do).
#
#   install.sh --binary PATH --sha256 HEX [--prefix DIR] [--source DIR]
#   install.sh --binary PATH --sums SHA256SUMS [--prefix DIR] [--source DIR]
#   install.sh --uninstall [--purge] [--prefix DIR]
#
# The binary's checksum is verified first (with --sums, every file listed there that this
# script installs is verified too); on a mismatch nothing is installed. Then: the binary to
# /usr/bin, the units and the preset to /usr/lib/systemd/system(-preset), the man page,
# completions and README when the source has them, /etc/ecs-anywhere/config.toml and
# /etc/default/ecs-anywhere only if absent, `systemd daemon-reload` when systemd runs, and
# on the first install `systemctl enable ecs-anywhere.timer` (enabled, not started: it
# starts at the next boot). Running it again changes only what differs.
#
# --source: the directory holding systemd/ and packaging/ (and optionally man/,
#   completions/, README.md): by default the unpacked release tarball this script sits in,
#   or the repository when run as scripts/install.sh.
# --prefix: install into an image tree instead of / (systemctl --root; nothing is reloaded).
# --uninstall: disable and stop the timer, stop the service, remove the installed files;
#   keeps the configuration (--purge removes it and /var/lib/ecs-anywhere too). The host's
#   registration (SSM and ECS agents) is never touched: run `ecs-anywhere deregister` first
#   to leave ECS.
set -eu

me=install.sh
die() {
    printf '%s: error: %s\n' "$me" "$*" >&2
    exit 1
}
note() { printf '%s: %s\n' "$me" "$*" >&2; }
usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }

binary=
sha256=
sums=
prefix=/
source_dir=
uninstall=false
purge=false
while [ $# -gt 0 ]; do
    case "$1" in
        --binary | --sha256 | --sums | --prefix | --source)
            [ $# -ge 2 ] || die "$1 needs a value"
            case "$1" in
                --binary) binary="$2" ;;
                --sha256) sha256="$2" ;;
                --sums) sums="$2" ;;
                --prefix) prefix="$2" ;;
                --source) source_dir="$2" ;;
            esac
            shift 2
            ;;
        --uninstall)
            uninstall=true
            shift
            ;;
        --purge)
            purge=true
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            usage >&2
            exit 2
            ;;
    esac
done

case "$prefix" in
    /*) ;;
    *) die "--prefix must be an absolute path (got '$prefix')" ;;
esac
# Paths below are "$root/usr/bin/..."; root is empty for /.
root="${prefix%/}"
[ -z "$root" ] || [ -d "$root" ] || die "--prefix $prefix is not a directory"

timer=ecs-anywhere.timer
service=ecs-anywhere.service
bin_path=/usr/bin/ecs-anywhere
unit_dir=/usr/lib/systemd/system
preset_path=/usr/lib/systemd/system-preset/80-ecs-anywhere.preset
man_path=/usr/share/man/man1/ecs-anywhere.1.gz
bash_path=/usr/share/bash-completion/completions/ecs-anywhere
zsh_path=/usr/share/zsh/vendor-completions/_ecs-anywhere
fish_path=/usr/share/fish/vendor_completions.d/ecs-anywhere.fish
doc_dir=/usr/share/doc/ecs-anywhere

# systemd is the init of the system we install into (not true for --prefix or image builds).
systemd_running() { [ -z "$root" ] && [ -d /run/systemd/system ]; }

systemctl_root() {
    if [ -n "$root" ]; then
        systemctl --root="$root" "$@"
    else
        systemctl "$@"
    fi
}

# A package manager owns PATH: this script must not overwrite or remove it.
owned_by_package() {
    [ -z "$root" ] || return 1
    if command -v dpkg-query >/dev/null 2>&1 && dpkg-query -S "$1" >/dev/null 2>&1; then
        return 0
    fi
    if command -v rpm >/dev/null 2>&1 && rpm -qf "$1" >/dev/null 2>&1; then
        return 0
    fi
    return 1
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum <"$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 <"$1" | cut -d' ' -f1
    else
        die "neither sha256sum nor shasum is available to verify checksums"
    fi
}

# The checksum listed for NAME in the sums file (sha256sum format, text or binary mode).
listed_sum() {
    awk -v n="$1" '{ f = $2; sub(/^\*/, "", f) } f == n { print tolower($1); exit }' "$sums"
}

# verify FILE EXPECTED LABEL
verify() {
    actual="$(sha256_of "$1")"
    expected="$(printf '%s' "$2" | tr 'A-F' 'a-f')"
    [ "$actual" = "$expected" ] ||
        die "checksum mismatch for $3: expected $expected, got $actual; nothing was installed"
}

# install_file SRC DEST MODE: replaced atomically (a running binary can be replaced).
install_file() {
    mkdir -p "$(dirname "$2")"
    tmp="$2.install-tmp.$$"
    cp "$1" "$tmp"
    chmod "$3" "$tmp"
    mv -f "$tmp" "$2"
}

do_uninstall() {
    owned_by_package "$bin_path" &&
        die "$bin_path belongs to a package; remove it with the package manager (dpkg -r / rpm -e ecs-anywhere)"
    if [ -e "$root$unit_dir/$timer" ]; then
        if systemd_running; then
            systemctl disable --now "$timer" >/dev/null 2>&1 || true
            systemctl stop "$service" >/dev/null 2>&1 || true
        else
            systemctl_root disable "$timer" >/dev/null 2>&1 || true
        fi
    fi
    # In case the unit file was already gone: the enablement symlink must not dangle.
    rm -f "$root/etc/systemd/system/timers.target.wants/$timer"
    rm -f "$root$bin_path" "$root$unit_dir/$service" "$root$unit_dir/$timer" "$root$preset_path" \
        "$root$man_path" "$root$bash_path" "$root$zsh_path" "$root$fish_path"
    rm -rf "$root$doc_dir"
    if systemd_running; then
        systemctl daemon-reload
    fi
    if [ "$purge" = true ]; then
        rm -rf "$root/etc/ecs-anywhere" "$root/etc/default/ecs-anywhere" "$root/var/lib/ecs-anywhere"
        note "removed ecs-anywhere, its configuration and its state"
    else
        note "removed ecs-anywhere; kept /etc/ecs-anywhere and /etc/default/ecs-anywhere (--purge removes them)"
    fi
    note "the host's SSM and ECS agent registration was left as it is"
}

if [ "$uninstall" = true ]; then
    [ -z "$binary$sha256$sums$source_dir" ] || die "--uninstall takes only --purge and --prefix"
    do_uninstall
    exit 0
fi
[ "$purge" = false ] || die "--purge goes with --uninstall"

# 1. Verify before touching anything.
[ -n "$binary" ] || die "--binary PATH is required"
[ -f "$binary" ] || die "$binary is not a file"
if [ -n "$sha256" ] && [ -n "$sums" ]; then
    die "give either --sha256 or --sums, not both"
elif [ -n "$sha256" ]; then
    printf '%s' "$sha256" | grep -Eqx '[0-9a-fA-F]{64}' || die "--sha256 needs 64 hex digits"
    verify "$binary" "$sha256" "$binary"
elif [ -n "$sums" ]; then
    [ -f "$sums" ] || die "$sums is not a file"
    name="$(basename "$binary")"
    expected="$(listed_sum "$name")"
    [ -n "$expected" ] || die "$sums lists no checksum for $name; nothing was installed"
    verify "$binary" "$expected" "$binary"
else
    die "--sha256 HEX or --sums SHA256SUMS is required: the binary is verified before it is installed"
fi

if [ -z "$source_dir" ]; then
    here="$(cd "$(dirname "$0")" && pwd)"
    if [ -f "$here/systemd/$service" ]; then
        source_dir="$here"
    else
        source_dir="$(dirname "$here")"
    fi
fi
for f in "systemd/$service" "systemd/$timer" packaging/80-ecs-anywhere.preset \
    packaging/config.toml packaging/default; do
    [ -f "$source_dir/$f" ] || die "$source_dir/$f is missing (point --source at the unpacked tarball)"
done
# Files listed in the sums file are verified too, all before the first install.
if [ -n "$sums" ]; then
    for f in "systemd/$service" "systemd/$timer" packaging/80-ecs-anywhere.preset \
        packaging/config.toml packaging/default man/ecs-anywhere.1.gz \
        completions/ecs-anywhere.bash completions/_ecs-anywhere completions/ecs-anywhere.fish \
        README.md; do
        [ -f "$source_dir/$f" ] || continue
        expected="$(listed_sum "$f")"
        [ -z "$expected" ] || verify "$source_dir/$f" "$expected" "$source_dir/$f"
    done
fi
owned_by_package "$bin_path" &&
    die "$bin_path belongs to a package; upgrade it with the package manager instead"

# 2. Install.
first_install=true
[ ! -e "$root$unit_dir/$timer" ] || first_install=false

install_file "$binary" "$root$bin_path" 0755
install_file "$source_dir/systemd/$service" "$root$unit_dir/$service" 0644
install_file "$source_dir/systemd/$timer" "$root$unit_dir/$timer" 0644
install_file "$source_dir/packaging/80-ecs-anywhere.preset" "$root$preset_path" 0644
[ ! -f "$source_dir/man/ecs-anywhere.1.gz" ] ||
    install_file "$source_dir/man/ecs-anywhere.1.gz" "$root$man_path" 0644
[ ! -f "$source_dir/completions/ecs-anywhere.bash" ] ||
    install_file "$source_dir/completions/ecs-anywhere.bash" "$root$bash_path" 0644
[ ! -f "$source_dir/completions/_ecs-anywhere" ] ||
    install_file "$source_dir/completions/_ecs-anywhere" "$root$zsh_path" 0644
[ ! -f "$source_dir/completions/ecs-anywhere.fish" ] ||
    install_file "$source_dir/completions/ecs-anywhere.fish" "$root$fish_path" 0644
[ ! -f "$source_dir/README.md" ] ||
    install_file "$source_dir/README.md" "$root$doc_dir/README.md" 0644
# The operator's configuration is never overwritten.
[ -e "$root/etc/ecs-anywhere/config.toml" ] ||
    install_file "$source_dir/packaging/config.toml" "$root/etc/ecs-anywhere/config.toml" 0644
[ -e "$root/etc/default/ecs-anywhere" ] ||
    install_file "$source_dir/packaging/default" "$root/etc/default/ecs-anywhere" 0644

if systemd_running; then
    systemctl daemon-reload
fi
if [ "$first_install" = true ]; then
    # What the packages' preset does: enabled, started at the next boot (or by the operator).
    systemctl_root enable "$timer" >/dev/null 2>&1 || die "systemctl enable $timer failed"
    note "installed ecs-anywhere; $timer is enabled and starts at the next boot (or: systemctl start $timer)"
else
    note "updated ecs-anywhere; $timer is $(systemctl_root is-enabled "$timer" 2>/dev/null || echo disabled)"
fi

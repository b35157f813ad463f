#!/bin/sh
# Installs the Debian packages scg needs that are missing. Nothing else is
# downloaded.
pkgs="make gcc clang libclang-rt-14-dev pkg-config libcurl4-openssl-dev libjansson-dev libyaml-dev libxxhash-dev
libmicrohttpd-dev libpcre2-dev zlib1g-dev bats jq parallel mandoc time python3 python3-jinja2 python3-yaml curl procps chromium valgrind"
missing=
for p in $pkgs; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && { echo "deps: all present"; exit 0; }
echo "deps: installing$missing"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq || exit 1
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing

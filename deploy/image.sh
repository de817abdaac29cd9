#!/bin/sh
# The container image's two install steps, kept here so that the Dockerfile and CI (which has no container
# engine that can pull the base image, and runs them outside one) run the same commands.
#
#   deploy/image.sh wheels SOURCE_DIR WHEEL_DIR   build stage: newsbot's wheel (matching compiled with
#                                                 mypyc, so gcc is needed) and one of every dependency,
#                                                 at the versions in requirements.lock
#   deploy/image.sh install WHEEL_DIR             runtime stage: install those wheels, offline
#
# pip itself is first brought to the version in the lock, so that the same pip reads the lock however old
# the base image's is; the lock then pins the dependencies (--constraint) and what pip installs into its
# isolated build environment (--build-constraint: setuptools, mypy and the stubs setup.py compiles with).
set -eu

pip() { python -m pip --no-cache-dir --disable-pip-version-check "$@"; }

case "${1:-}" in
wheels)
    source=$(cd "$2" && pwd)  # a path, never a name pip would look up on the index
    lock="$source/requirements.lock"
    pip install --quiet --constraint "$lock" pip
    pip wheel --constraint "$lock" --build-constraint "$lock" --wheel-dir "$3" "$source"
    ;;
install)
    pip install --no-index --find-links "$2" newsbot
    ;;
*)
    echo "usage: deploy/image.sh wheels SOURCE_DIR WHEEL_DIR | install WHEEL_DIR" >&2
    exit 2
    ;;
esac

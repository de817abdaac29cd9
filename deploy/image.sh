#!/bin/sh
# The container image's two install steps, kept here so that the Dockerfile and CI (which has no container
# engine that can pull the base image, and runs them outside one) run the same commands.
#
#   deploy/image.sh wheels SOURCE_DIR WHEEL_DIR   build stage: newsbot's wheel (matching compiled with
#                                                 mypyc, so gcc is needed) and one of every dependency,
#                                                 at the versions in requirements.lock
#   deploy/image.sh install WHEEL_DIR             runtime stage: install those wheels, offline
#
# PIP_CONSTRAINT (not -c) so that the lock also pins what pip installs into its isolated build
# environment: setuptools, mypy and the stubs that setup.py compiles with.
set -eu

case "${1:-}" in
wheels)
    source=$(cd "$2" && pwd)  # a path, never a name pip would look up on the index
    PIP_CONSTRAINT="$source/requirements.lock" \
        python -m pip wheel --no-cache-dir --disable-pip-version-check --wheel-dir "$3" "$source"
    ;;
install)
    python -m pip install --no-cache-dir --disable-pip-version-check --no-index --find-links "$2" newsbot
    ;;
*)
    echo "usage: deploy/image.sh wheels SOURCE_DIR WHEEL_DIR | install WHEEL_DIR" >&2
    exit 2
    ;;
esac

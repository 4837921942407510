#!/bin/sh
# deploy.sh WORKDIR BRANCH APPLY [COMMIT]
#
# Run by hookd on a verified push: bring the working copy WORKDIR to the tip
# of BRANCH on its origin, then run APPLY inside it. COMMIT (the push's
# "after") is only reported: with coalescing, several pushes may lead to one
# run, and the tip of the branch is what must be deployed.
set -eu
workdir=$1 branch=$2 apply=$3 commit=${4:-}
cd "$workdir"
git fetch --quiet origin "+refs/heads/$branch:refs/remotes/origin/$branch"
git reset --hard --quiet "refs/remotes/origin/$branch"
echo "working copy at $(git rev-parse HEAD)${commit:+ (push announced $commit)}"
exec "$apply"

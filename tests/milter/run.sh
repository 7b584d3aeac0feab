#!/bin/sh
# run.sh - drive relaygate-milter with miltertest (OpenDKIM's Lua milter
# driver; Debian package "miltertest"): the protocol scenarios, then every
# corpus message, whose verdict must equal `relaygate check`'s.
#
#   tests/milter/run.sh [BUILDDIR]
#
# Needs a built tree (milter/relaygate-milter, cli/relaygate).  With
# VALGRIND=1 the milter runs under valgrind (leaks and errors fail the run).
# Exit 0 when every check passed; skips (77) without miltertest.
set -eu

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=${1:-${top_builddir:-$srcdir}}
testdir=$srcdir/tests/milter
corpus=${RG_CORPUS:-$srcdir/../shared/corpus}
milter=$builddir/milter/relaygate-milter
cli=$builddir/cli/relaygate

command -v miltertest >/dev/null 2>&1 || {
	echo "SKIP: miltertest not installed (apt-get install miltertest)"
	exit 77
}
for f in "$milter" "$cli"; do
	[ -x "$f" ] || { echo "missing $f: build first" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rgmilter.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/spool"
# the configuration @includes its phrase lists relative to itself
ln -s "$srcdir/conf/rules" "$tmp/rules"

if [ "${VALGRIND:-0}" = 1 ]; then
	wrapper=$tmp/milter.sh
	cat > "$wrapper" <<EOF
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full \
	--suppressions=$testdir/valgrind.supp \
	--show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --log-file=$tmp/valgrind.%p \
	$milter "\$@"
EOF
	chmod +x "$wrapper"
	milter=$wrapper
fi

# mkconf SOCKET MEMORY_SPOOL MAX_SIZE > FILE: the sample, made private
# (held messages in $tmp/quarantine, no notices: there is no MTA; started
# as root it stays root, in a temp dir only root can enter)
mkconf() {
	sed -e "s|unix:/run/relaygate/milter.sock|$1|" \
	    -e 's|^  user = "relaygate";|  user = "root";|' \
	    -e "s|\"/var/spool/relaygate\"|\"$tmp/spool\"|" \
	    -e "s|\"/var/lib/relaygate/quarantine\"|\"$tmp/quarantine\"|" \
	    -e "s|notify = true|notify = false|" \
	    -e "s|memory_spool = \"1M\"|memory_spool = \"$2\"|" \
	    -e "s|max_message_size = \"25M\"|max_message_size = \"$3\"|" \
	    "$srcdir/conf/relaygate.conf"
}

status=0

echo "# scenarios"
mkconf "unix:$tmp/scen.sock" 2K 64K > "$tmp/scen.conf"
miltertest -D milter="$milter" -D conf="$tmp/scen.conf" \
	-D socket="unix:$tmp/scen.sock" -D spool="$tmp/spool" \
	-D testdir="$testdir" -D cli="$cli" \
	-s "$testdir/scenarios.lua" || status=1
mkdir -p "$tmp/spool"

if [ -f "$corpus/manifest.tsv" ]; then
	echo "# corpus: milter verdict equals relaygate check"
	mkconf "unix:$tmp/corpus.sock" 4K 25M > "$tmp/corpus.conf"
	: > "$tmp/expected"
	for f in "$corpus"/*.eml; do
		json=$("$cli" check --json -c "$tmp/corpus.conf" "$f" \
		       2>/dev/null) || true
		verdict=$(printf '%s\n' "$json" |
		          sed -n 's/.*"verdict": *"\([a-z]*\)".*/\1/p')
		printf '%s\t%s\n' "$f" "${verdict:-error}" >> "$tmp/expected"
	done
	miltertest -D milter="$milter" -D conf="$tmp/corpus.conf" \
		-D socket="unix:$tmp/corpus.sock" -D expected="$tmp/expected" \
		-D testdir="$testdir" -s "$testdir/corpus.lua" || status=1
else
	echo "# corpus: SKIP, no $corpus/manifest.tsv (set RG_CORPUS)"
fi

if [ "$(ls -A "$tmp/spool")" ]; then
	echo "not ok - spool directory not empty:"; ls -l "$tmp/spool"
	status=1
fi
if [ "${VALGRIND:-0}" = 1 ]; then
	for log in "$tmp"/valgrind.*; do
		[ -s "$log" ] || continue
		echo "not ok - valgrind: $log"; cat "$log"; status=1
	done
fi
exit $status

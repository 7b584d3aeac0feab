#!/bin/bash
#
# faults.sh - relaygate under load and faults, end to end: the private
# Postfix of lib.sh (up to 250 smtpd processes), relaygate-milter started
# as root and dropping to an unprivileged user (relaygate if it exists,
# else nobody), an smtp-sink as the next hop.  What it proves:
#
#   security   the milter runs as that user (uid, gid, groups), its socket
#              is 0660 and the user's, the store is 0700/0600 and the
#              user's; a missing user is refused, "root" only explicitly;
#              no shell anywhere in the sources; the review commands
#              refuse users outside quarantine.review_group (also a
#              forged SUDO_USER); the milter's log never holds more of a
#              message than limits.excerpt_chars.
#   load       200 concurrent SMTP sessions (four smtp-source -s 50) of
#              mixed messages - compliant and violating to a relay
#              address, quarantine-level (emoji), violating to an
#              ordinary address - and every message accounted for:
#              delivered (sink) + rejected (Postfix log) + quarantined
#              (relaygate quarantine list) = sent, per kind; no
#              temporary failure; the milter's RSS back near its
#              baseline afterwards.
#   reload     the same load while SIGUSR1 reloads good and broken files:
#              no failed transaction; a broken file is refused with
#              FILE:LINE in the log and the old policy stays.
#   kill       SIGKILL in the middle of DATA (a slow client): 451 4.7.1,
#              nothing delivered; after a restart the client's retry is
#              delivered, once.
#   disk full  spool and store on 256 KB tmpfs mounts: a spilled body or a
#              held message that cannot be written gets 451 4.7.1; in a
#              burst until the store (grown to 1 MB) is full, every 250 is
#              a stored record with the exact bytes, every other reply a
#              451.
#   notices    the held messages' senders are told: none fails, none twice
#              (the long run waits for every one).
#   backtrack  a configured phrase that backtracks catastrophically
#              ("(?:a+)+[bd]") on "aaa...ac", short and 300 KB long: the
#              match limit stops it, the reply says so, within seconds.
#
# Run by "make check" (short: about 25 s; 2,400 messages under load).  The
# long variant (about 3.5 minutes: 4 rounds of 10,000 messages, 10,000
# more under some 140 reloads, 10,000 notices, a 300-message burst):
#   sudo tests/e2e/faults.sh --long
# E2E_VERBOSE=1, E2E_KEEP=1 to debug.  Exit 0 pass, 1 fail, 77 skip (not
# root, tools missing, RG_SKIP_E2E set).
#
set -eu
# Library functions with optional arguments are called without them:
# shellcheck disable=SC2119

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"

LONG=${RG_FAULTS_LONG:-0}
case ${1:-} in
--long) LONG=1 ;;
'') ;;
*)
	echo "usage: $0 [--long]" >&2
	exit 2
	;;
esac

if [ -n "${RG_SKIP_E2E:-}" ]; then
	echo "SKIP: load and faults end to end: RG_SKIP_E2E is set"
	exit 77
fi
if ! e2e_require; then
	echo "SKIP: load and faults end to end: $E2E_WHY"
	exit 77
fi
for cmd in smtp-source python3 mount umount; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		echo "SKIP: load and faults end to end: no $cmd"
		exit 77
	fi
done
e2e_require_milter || exit 1
if [ ! -x "$E2E_CLI_BIN" ]; then
	echo "error: $E2E_CLI_BIN is not built (run make first)"
	exit 1
fi

FROM=orders@northwind-garden.example
RELAY=2m7kq9xw4p1rz8d@marketplace.amazon.com
ORDINARY=club@example.com
DATA=$E2E_DATA/faults
CLIENT=$here/smtpclient.py
KINDS="pass reject hold ordinary"
SESSIONS=50              # per kind: 4 x 50 = 200 concurrent sessions
if [ "$LONG" = 1 ]; then
	WARM=50 PER_KIND=2500 ROUNDS=4 RELOAD_PER_KIND=2500 BURST=300
else
	WARM=50 PER_KIND=400 ROUNDS=1 RELOAD_PER_KIND=200 BURST=60
fi
# RSS after a round may exceed the warmed-up baseline by this much: glibc
# keeps freed memory in its per-thread arenas (up to 8 per core, each
# grown by whichever of the 200 threads used it) and SQLite its page
# cache; neither is returned to the kernel at once.  A leak of 1 KB per
# message would pass it in the long run (4 x 10000 messages: 40 MB) and
# fail the trend check there.
RSS_SLACK_KB=${RG_FAULTS_RSS_SLACK_KB:-16384}

# the unprivileged user the milter drops to
if id relaygate >/dev/null 2>&1; then
	MUSER=relaygate
else
	MUSER=nobody
fi
E2E_MILTER_USER=$MUSER
MUID=$(id -u "$MUSER")
MGID=$(id -g "$MUSER")
MGROUP=$(id -gn "$MUSER")

n=0
failed=0

# run_case DESCRIPTION FUNCTION - "ok N" / "not ok N"; the function's
# diagnostics follow a failure, and its "# " lines are shown always.
run_case() {
	local desc=$1 diag t0
	shift
	n=$((n + 1))
	diag=$E2E_OUT/case-$n.diag
	t0=$(e2e_elapsed)
	if "$@" >"$diag" 2>&1; then
		echo "ok $n - $desc ($(awk -v a="$t0" -v b="$(e2e_elapsed)" 'BEGIN { printf "%.1f", b - a }') s)"
		grep '^# ' "$diag" || true
	else
		echo "not ok $n - $desc"
		cat "$diag"
		failed=$((failed + 1))
		E2E_FAILED=1
	fi
}

# q CONF ARGS... - relaygate quarantine with a configuration
q() {
	local conf=$1
	shift
	"$E2E_CLI_BIN" quarantine -c "$conf" "$@"
}

# proc_field PID NAME - a field of /proc/PID/status, tabs as spaces
proc_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s '\t ' ' '; }

# rss_kb / threads - the milter's resident size and thread count
rss_kb() { proc_field "$E2E_MILTER_PID" VmRSS | cut -d' ' -f1; }
threads() { proc_field "$E2E_MILTER_PID" Threads; }

# settle - wait until the milter's thread count stops falling (every
# session over: libmilter ends a connection's thread with it)
settle() {
	local last=-1 now stable=0 ticks=400
	while [ "$ticks" -gt 0 ]; do
		now=$(threads)
		if [ "$now" = "$last" ]; then
			stable=$((stable + 1))
			[ "$stable" -ge 10 ] && return 0
		else
			stable=0
		fi
		last=$now
		e2e_sleep_tick
		ticks=$((ticks - 1))
	done
}

# log_mark FILE - its current line count (for log_since)
log_mark() { wc -l <"$1"; }
# log_since FILE MARK - the lines added after MARK
log_since() { tail -n "+$(($2 + 1))" "$1"; }

# wait_log FILE MARK PATTERN [TIMEOUT_S] - until a line after MARK matches
wait_log() {
	local ticks=$((${4:-10} * 20))
	while ! log_since "$1" "$2" | grep -qE -e "$3"; do
		[ "$ticks" -le 0 ] && return 1
		e2e_sleep_tick
		ticks=$((ticks - 1))
	done
}

# reload CONF_SOURCE - put a configuration in place atomically, SIGUSR1,
# and wait for the milter's verdict on it; prints "ok" or "refused"
reload() {
	local mark
	mark=$(log_mark "$E2E_MILTER_LOG")
	cp "$1" "$CONF.new"
	mv "$CONF.new" "$CONF"
	kill -USR1 "$E2E_MILTER_PID"
	if ! wait_log "$E2E_MILTER_LOG" "$mark" 'configuration reloaded|reload failed' 30; then
		e2e_diag "no reload logged within 30 s"
		return 1
	fi
	if log_since "$E2E_MILTER_LOG" "$mark" | grep -q 'reload failed'; then
		echo refused
	else
		echo ok
	fi
}

# queue_empty - nothing in Postfix's queues
queue_empty() { [ -z "$(postqueue -c "$E2E_PF_ETC" -j 2>/dev/null)" ]; }

# sink_counts - "VALUE COUNT" for each X-Load-Kind value, and "notice
# COUNT" for notices, from the sink files' own headers (a notice quotes
# the original's headers in its body: not counted there)
sink_counts() {
	find "$E2E_SINK_DIR" -type f -print0 | xargs -0 -r awk '
		FNR == 1 { inh = 1 }
		!inh { next }
		{ sub(/\r$/, "") }
		/^$/ { inh = 0; nextfile }
		tolower($1) == "x-load-kind:" { k[$2]++; inh = 0; nextfile }
		tolower($1) == "x-relaygate-notice:" { k["notice"]++; inh = 0; nextfile }
		END { for (x in k) print x, k[x] }' |
		awk '{ s[$1] += $2 } END { for (x in s) print x, s[x] }'
}

# sink_count VALUE - from sink_counts
sink_count() { sink_counts | awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'; }

# held_count [CONF] - records in the store (any state); the command reads
# a copy of the configuration ($CONF may be a broken one being reloaded)
held_count() { q "${1:-$CONF.orig}" list --all --json | grep -c '^{' || true; }

# kind_files TAG - this round's copy of each message, its X-Load-Kind
# value made KIND.TAG so the round's deliveries can be told apart
kind_files() {
	local kind
	for kind in $KINDS; do
		sed "s/^X-Load-Kind: $kind\$/X-Load-Kind: $kind.$1/" "$DATA/$kind.eml" >"$GEN/$kind.$1.eml"
	done
}

# load_start TAG PER_KIND - four smtp-source runs at once, SESSIONS
# sessions each; their pids in LOAD_PIDS
load_start() {
	local tag=$1 count=$2 kind rcpt
	kind_files "$tag"
	LOAD_PIDS=
	for kind in $KINDS; do
		rcpt=$RELAY
		[ "$kind" = ordinary ] && rcpt=$ORDINARY
		smtp-source -A -s "$SESSIONS" -m "$count" -f "$FROM" -t "$rcpt" \
			-M client.relaygate-e2e.test -F "$GEN/$kind.$tag.eml" \
			"127.0.0.1:$E2E_SMTP_PORT" >"$E2E_OUT/load-$tag-$kind.out" 2>&1 9>&- &
		LOAD_PIDS="$LOAD_PIDS $!"
	done
}

# load_running - some smtp-source of load_start still runs
load_running() {
	local pid
	for pid in $LOAD_PIDS; do
		e2e_pid_alive "$pid" && return 0
	done
	return 1
}

# load_wait TAG - wait for the smtp-source runs; 1 if one failed
load_wait() {
	local pid rc=0 kind
	for pid in $LOAD_PIDS; do
		wait "$pid" || rc=1
	done
	# smtp-source -A warns of each refusal: the violating messages'
	# 550 5.7.1 is expected, anything else is not
	for kind in $KINDS; do
		if grep -v 'warning: end of data rejected: 550 5\.7\.1 relaygate: ' \
			"$E2E_OUT/load-$1-$kind.out" >"$E2E_OUT/load-$1-$kind.other"; then
			e2e_diag "smtp-source ($kind) said:"
			sort "$E2E_OUT/load-$1-$kind.other" | uniq -c | sort -rn | head -n 5 | sed 's/^/#     /'
			rc=1
		fi
	done
	return "$rc"
}

# account TAG PER_KIND MAILLOG_MARK HELD_BEFORE - every message of the
# round accounted for, per kind, and no temporary failure
account() {
	local tag=$1 count=$2 mark=$3 held0=$4 ticks=1200 pass ordinary rejected
	local discarded held tempfail warnings sent total
	sent=$((4 * count))
	# everything Postfix accepted for delivery is delivered (the sink has
	# written a message before it answers the final dot)
	while [ "$ticks" -gt 0 ] && ! queue_empty; do
		sleep 0.1
		ticks=$((ticks - 2))
	done
	sink_counts >"$E2E_OUT/sink.$tag"
	pass=$(awk -v k="pass.$tag" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$E2E_OUT/sink.$tag")
	ordinary=$(awk -v k="ordinary.$tag" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$E2E_OUT/sink.$tag")
	log_since "$E2E_MAILLOG" "$mark" >"$E2E_OUT/maillog.$tag"
	rejected=$(grep -c 'milter-reject: END-OF-MESSAGE .*: 5\.7\.1 ' "$E2E_OUT/maillog.$tag" || true)
	discarded=$(grep -c 'milter-discard: END-OF-MESSAGE' "$E2E_OUT/maillog.$tag" || true)
	tempfail=$(grep -cE 'milter-reject: [A-Z-]+ .*: 4\.[0-9]\.[0-9]' "$E2E_OUT/maillog.$tag" || true)
	warnings=$(grep -ciE 'warning: .*milter|fatal|panic' "$E2E_OUT/maillog.$tag" || true)
	held=$(($(held_count) - held0))
	total=$((pass + ordinary + rejected + held))
	echo "# $tag: sent $sent = delivered $pass pass + $ordinary ordinary + rejected $rejected + quarantined $held (Postfix discarded $discarded); tempfail $tempfail; milter warnings $warnings"
	if [ "$pass" != "$count" ] || [ "$ordinary" != "$count" ] ||
		[ "$rejected" != "$count" ] || [ "$held" != "$count" ] ||
		[ "$discarded" != "$count" ] || [ "$total" != "$sent" ] ||
		[ "$tempfail" != 0 ] || [ "$warnings" != 0 ]; then
		e2e_diag "not every message accounted for (want $count of each kind, no failure)"
		grep -E 'milter-reject: [A-Z-]+ .*: 4\.|warning|fatal|panic' "$E2E_OUT/maillog.$tag" | head -n 10 | sed 's/^/#     /'
		return 1
	fi
}

# ---------------------------------------------------------------- cases

t_privileges() {
	local pid=$E2E_MILTER_PID uid gid groups g
	uid=$(proc_field "$pid" Uid)
	gid=$(proc_field "$pid" Gid)
	groups=$(proc_field "$pid" Groups)
	echo "# milter pid $pid: Uid $uid, Gid $gid, Groups ${groups:-none}; socket ${E2E_MILTER_SOCKET_STAT:-?}"
	if [ "$uid" != "$MUID $MUID $MUID $MUID" ] || [ "$gid" != "$MGID $MGID $MGID $MGID" ]; then
		e2e_diag "the milter runs as uid ($uid) gid ($gid), not $MUSER ($MUID:$MGID)"
		return 1
	fi
	for g in $groups; do
		if [ "$g" = 0 ]; then
			e2e_diag "the milter kept the root group"
			return 1
		fi
	done
	if [ "${E2E_MILTER_SOCKET_STAT:-}" != "660 $MUSER $MGROUP" ]; then
		e2e_diag "socket made as '${E2E_MILTER_SOCKET_STAT:-?}', want '660 $MUSER $MGROUP'"
		return 1
	fi
	grep -q "running as user $MUSER (uid $MUID, gid $MGID)" "$E2E_MILTER_LOG" || {
		e2e_diag "the milter did not log the user it runs as"
		return 1
	}
}

t_refuse_user() {
	local conf=$GEN/nouser.conf rc=0 pid
	sed "s/^  user = \"$MUSER\";/  user = \"rg-no-such-user\";/" "$CONF" >"$conf"
	timeout 30 "$E2E_MILTER_BIN" -f -c "$conf" -p "unix:$GEN/nouser.sock" \
		>"$E2E_OUT/nouser.out" 2>&1 </dev/null 9>&- || rc=$?
	if [ "$rc" != 1 ] || ! grep -q 'milter.user "rg-no-such-user": no such user' "$E2E_OUT/nouser.out"; then
		e2e_diag "a missing milter.user: exit $rc, said:"
		sed 's/^/#     /' "$E2E_OUT/nouser.out"
		return 1
	fi
	if [ -e "$GEN/nouser.sock" ]; then
		e2e_diag "it made its socket before refusing"
		return 1
	fi
	echo "# missing user: refused: $(grep -o 'milter.user.*' "$E2E_OUT/nouser.out" | head -n 1 | cut -c1-70)..."
	# user = "root": on purpose only, and said
	mkdir -p "$GEN/rootrun/spool"
	sed -e "s/^  user = \"$MUSER\";/  user = \"root\";/" \
		-e "s|$E2E_MILTER_DIR/|$GEN/rootrun/|" "$CONF" >"$GEN/root.conf"
	"$E2E_MILTER_BIN" -f -c "$GEN/root.conf" -p "unix:$GEN/root.sock" \
		>"$E2E_OUT/root.out" 2>&1 </dev/null 9>&- &
	pid=$!
	local ticks=200
	while ! grep -q 'starting:' "$E2E_OUT/root.out" && [ "$ticks" -gt 0 ]; do
		e2e_sleep_tick
		ticks=$((ticks - 1))
	done
	rc=0
	grep -q 'running as root (milter.user = "root")' "$E2E_OUT/root.out" || rc=1
	[ "$(proc_field "$pid" Uid)" = "0 0 0 0" ] || rc=1
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ "$rc" != 0 ]; then
		e2e_diag "user = \"root\" did not run as root with a warning:"
		sed 's/^/#     /' "$E2E_OUT/root.out"
		return 1
	fi
}

t_no_shell() {
	local hits spawns
	hits=$(cd "$top_srcdir" && grep -rnE '(^|[^a-z_])(system|popen|execl|execlp|execle|execvp|execvpe|posix_spawnp|wordexp)[[:space:]]*\(|/bin/sh' \
		--include='*.c' --include='*.h' milter cli store engine conf || true)
	if [ -n "$hits" ]; then
		e2e_diag "shell or PATH-searching exec in the sources:"
		printf '%s\n' "$hits" | sed 's/^/#     /'
		return 1
	fi
	# the one program relaygate runs: the configured sendmail, by path,
	# with an argument vector
	spawns=$(cd "$top_srcdir" && grep -rlE '(^|[^a-z_])(posix_spawn|execv|execve|fork)[[:space:]]*\(' \
		--include='*.c' milter cli store engine conf | tr '\n' ' ')
	echo "# no system(), popen(), exec*p(), /bin/sh; programs started only in: ${spawns:-nowhere}"
	if [ "$spawns" != "store/deliver.c " ]; then
		e2e_diag "programs started outside store/deliver.c: $spawns"
		return 1
	fi
}

t_review_group() {
	local conf=$GEN/review.conf out rc
	# review_group: postfix's own group, of which daemon is no member
	sed 's/^  review_group = "";/  review_group = "postfix";/' "$CONF" >"$conf"
	chmod 644 "$conf"
	# name=who, then expected outcome
	check() {
		local want=$1 why=$2
		shift 2
		rc=0
		out=$("$@" 2>&1) || rc=$?
		if [ "$want" = allowed ] && [ "$rc" != 0 ]; then
			e2e_diag "$why: refused (exit $rc): $out"
			return 1
		fi
		if [ "$want" != allowed ] && { [ "$rc" = 0 ] || ! printf '%s' "$out" | grep -qF -e "$want"; }; then
			e2e_diag "$why: exit $rc, want refusal '$want': $out"
			return 1
		fi
	}
	check allowed "root, sudo from a member" \
		env SUDO_USER=postfix "$E2E_CLI_BIN" quarantine -c "$conf" list || return 1
	check 'daemon is not in the review group "postfix"' "root, sudo from a non-member" \
		env SUDO_USER=daemon "$E2E_CLI_BIN" quarantine -c "$conf" list || return 1
	check allowed "store owner, sudo from a member" \
		runuser -u "$MUSER" -- env SUDO_USER=postfix "$E2E_CLI_BIN" quarantine -c "$conf" list || return 1
	check 'daemon is not in the review group "postfix"' "store owner, sudo from a non-member" \
		runuser -u "$MUSER" -- env SUDO_USER=daemon "$E2E_CLI_BIN" quarantine -c "$conf" list || return 1
	check '-c is not allowed through sudo' "store owner through sudo with -c" \
		runuser -u "$MUSER" -- env SUDO_USER=postfix SUDO_UID=1 "$E2E_CLI_BIN" quarantine -c "$conf" list || return 1
	check 'daemon is not in the review group "postfix"' "a non-member, directly" \
		runuser -u daemon -- "$E2E_CLI_BIN" quarantine -c "$conf" list || return 1
	check 'daemon is not in the review group "postfix"' "a non-member claiming SUDO_USER=postfix" \
		runuser -u daemon -- env SUDO_USER=postfix "$E2E_CLI_BIN" quarantine -c "$conf" list || return 1
	echo "# review_group \"postfix\": 2 allowed, 5 refused (non-member via sudo as root and as the owner, -c through sudo, non-member direct, forged SUDO_USER)"
}

# t_load - warm up, then ROUNDS rounds of 4 x PER_KIND messages
t_load() {
	local r mark held0 rss base prev tag t0 secs
	mark=$(log_mark "$E2E_MAILLOG")
	held0=$(held_count)
	load_start warm "$WARM"
	load_wait warm || return 1
	account warm "$WARM" "$mark" "$held0" || return 1
	settle
	BASE_THREADS=$(threads)
	base=$(rss_kb)
	prev=$base
	echo "# baseline after a warm-up at 200 sessions: RSS $base kB, $BASE_THREADS threads"
	for r in $(seq 1 "$ROUNDS"); do
		tag=r$r
		mark=$(log_mark "$E2E_MAILLOG")
		held0=$(held_count)
		t0=$(e2e_elapsed)
		load_start "$tag" "$PER_KIND"
		PEAK_THREADS=0
		PEAK_SMTPD=0
		while load_running; do
			local t
			t=$(threads)
			[ "$t" -gt "$PEAK_THREADS" ] && PEAK_THREADS=$t
			# (pgrep is procps's: counted when it is there)
			t=$(pgrep -c -f "^smtpd -n 127.0.0.1:$E2E_SMTP_PORT " 2>/dev/null || true)
			[ "${t:-0}" -gt "$PEAK_SMTPD" ] && PEAK_SMTPD=$t
			sleep 0.05
		done
		load_wait "$tag" || return 1
		secs=$(awk -v a="$t0" -v b="$(e2e_elapsed)" 'BEGIN { printf "%.1f", b - a }')
		account "$tag" "$PER_KIND" "$mark" "$held0" || return 1
		settle
		rss=$(rss_kb)
		echo "# $tag: $((4 * PER_KIND)) messages in $secs s ($(awk -v m=$((4 * PER_KIND)) -v s="$secs" 'BEGIN { printf "%.0f", m / s }') msg/s), peak $PEAK_SMTPD smtpd processes, $PEAK_THREADS milter threads; RSS $rss kB (baseline $base, +$((rss - base)) kB), $(threads) threads"
		if [ "$rss" -gt $((base + RSS_SLACK_KB)) ]; then
			e2e_diag "RSS $rss kB is more than $RSS_SLACK_KB kB over the baseline $base kB"
			return 1
		fi
		# the long run: no growth from round to round either
		if [ "$r" -gt 2 ] && [ "$rss" -gt $((prev + RSS_SLACK_KB / 4)) ]; then
			e2e_diag "RSS grew from $prev to $rss kB in round $r"
			return 1
		fi
		prev=$rss
	done
	# the sessions overlapped in the milter too (a thread per connection;
	# sampled, and how many overlap depends on the machine's speed: about
	# 60 to 140 here in the short run, 200 in the long one)
	if [ "$PEAK_THREADS" -lt 20 ]; then
		e2e_diag "at most $PEAK_THREADS milter threads: the sessions did not overlap"
		return 1
	fi
}

t_store_modes() {
	local bad
	bad=$(find "$E2E_QUARANTINE_DIR" "$E2E_MILTER_DIR/spool" \
		\( -type d ! -perm 700 \) -o \( -type f ! -perm 600 \) -o \
		\( ! -user "$MUSER" \) -o \( ! -type d ! -type f \) 2>&1)
	if [ -n "$bad" ]; then
		e2e_diag "not 0700 directories and 0600 files of $MUSER:"
		printf '%s\n' "$bad" | head -n 10 | sed 's/^/#     /'
		find "$E2E_QUARANTINE_DIR" -maxdepth 1 -printf '%m %u %p\n' | sed 's/^/#     /'
		return 1
	fi
	echo "# $(find "$E2E_QUARANTINE_DIR" -type f | wc -l) files in the store, all 0600, directories 0700, owner $MUSER"
}

# t_notices - held messages' notices go out one SMTP session each (about
# 10 a second here), so the short run checks that they flow without
# failure or duplicate; the long run waits for every one
t_notices() {
	local want ticks got failures
	want=$(q "$CONF.orig" list --all --json | grep -c '"sender":"orders@' || true)
	ticks=$((LONG == 1 ? want * 2 + 100 : 20))
	while [ "$ticks" -gt 0 ]; do
		got=$(sink_count notice)
		[ "$got" -ge "$want" ] && break
		sleep 0.5
		ticks=$((ticks - 1))
	done
	failures=$(grep -cE 'notice to <.*> (not sent|failed)' "$E2E_MILTER_LOG" || true)
	echo "# $got of $want notices at the sink so far; $failures failed or retried"
	[ "$got" -gt 0 ] && [ "$got" -le "$want" ] && [ "$failures" = 0 ] &&
		{ [ "$LONG" = 0 ] || [ "$got" = "$want" ]; }
}

t_reload_under_load() {
	local rc=0
	reload_under_load || rc=1
	# whatever happened, the next cases get the test configuration
	cp "$CONF.orig" "$CONF"
	return "$rc"
}

reload_under_load() {
	local mark lmark held0 i=0 ok=0 refused=0 r good bad1 bad2
	good=$GEN/good.conf
	bad1=$GEN/broken-syntax.conf
	bad2=$GEN/broken-value.conf
	# broken twice: a syntax error, and a value the loader refuses
	{ cat "$CONF.orig"; printf 'limits: {\n  max_message_size = ;\n};\n'; } >"$bad1"
	sed 's/emoji = { action = "quarantine"; };/emoji = { action = "hold"; };/' "$CONF.orig" >"$bad2"
	mark=$(log_mark "$E2E_MAILLOG")
	lmark=$(log_mark "$E2E_MILTER_LOG")
	held0=$(held_count)
	load_start reload "$RELOAD_PER_KIND"
	while load_running; do
		i=$((i + 1))
		case $((i % 3)) in
		1)
			# a good file that differs: a new contact line
			sed "s/^  review_group = \"\";/  review_group = \"\";\n  contact = \"Reload $i.\";/" "$CONF.orig" >"$good"
			r=$(reload "$good") || return 1
			;;
		2) r=$(reload "$bad1") || return 1 ;;
		0) r=$(reload "$bad2") || return 1 ;;
		esac
		case $r in
		ok) ok=$((ok + 1)) ;;
		*) refused=$((refused + 1)) ;;
		esac
	done
	load_wait reload || return 1
	echo "# $((ok + refused)) reloads during the run: $ok taken, $refused refused"
	account reload "$RELOAD_PER_KIND" "$mark" "$held0" || return 1
	if [ "$ok" = 0 ] || [ "$refused" = 0 ]; then
		e2e_diag "the run ended before good and broken reloads happened"
		return 1
	fi
	# a broken file names itself and its line, and the old policy stays
	if ! log_since "$E2E_MILTER_LOG" "$lmark" | grep -qF "reload failed, keeping the running configuration: $CONF:"; then
		e2e_diag "no 'reload failed ... $CONF:LINE' in the log"
		return 1
	fi
	echo "# e.g. $(log_since "$E2E_MILTER_LOG" "$lmark" | grep -F 'reload failed' | tail -n 1 | sed 's/^[^:]*: //' | cut -c1-150)"
	r=$(reload "$bad2") || return 1
	[ "$r" = refused ] || return 1
	held0=$(held_count)
	e2e_send after-broken "$DATA/hold.eml" "$FROM" "$RELAY"
	e2e_expect_reply 250 || return 1
	if [ "$(held_count)" != $((held0 + 1)) ]; then
		e2e_diag "after a refused reload the emoji message was not held"
		return 1
	fi
	r=$(reload "$CONF.orig") || return 1
	[ "$r" = ok ]
}

# match_limit_reply - the last reply names the match limit
match_limit_reply() {
	if ! e2e_final_reply | grep -qiE 'match[ _]limit'; then
		e2e_diag "the reply does not name the match limit:"
		e2e_show_reply
		return 1
	fi
}

t_backtrack() {
	local t0 secs
	t0=$(e2e_elapsed)
	e2e_send backtrack "$DATA/backtrack.eml" "$FROM" "$RELAY"
	secs=$(awk -v a="$t0" -v b="$(e2e_elapsed)" 'BEGIN { printf "%.2f", b - a }')
	e2e_expect_reply 550 5.7.1 uncheckable || return 1
	match_limit_reply || return 1
	e2e_expect_not_in_sink || return 1
	echo "# \"(?:a+)+[bd]\" on a 50-letter word: answered in $secs s: $(e2e_final_reply | grep -F uncheckable | head -n 1 | cut -c1-120)"
	# 300 KB of it, quoted-printable so that it is one word
	python3 - "$DATA/backtrack.eml" "$GEN/huge.eml" <<'EOF'
import quopri, sys
head = open(sys.argv[1], "rb").read().split(b"\n\n")[0]
head = head.replace(b"Content-Transfer-Encoding: 8bit",
                    b"Content-Transfer-Encoding: quoted-printable")
body = quopri.encodestring(b"Our parcel label reference is " + b"a" * 300000
                           + b"c for the carrier.\n")
open(sys.argv[2], "wb").write(head + b"\n\nHello,\n\n" + body +
                              b"\nKind regards,\nNorthwind Garden Supplies\n")
EOF
	t0=$(e2e_elapsed)
	e2e_send backtrack-huge "$GEN/huge.eml" "$FROM" "$RELAY"
	secs=$(awk -v a="$t0" -v b="$(e2e_elapsed)" 'BEGIN { printf "%.2f", b - a }')
	e2e_expect_reply 550 5.7.1 uncheckable || return 1
	match_limit_reply || return 1
	echo "# the same on a 300 KB word: answered in $secs s"
	if ! grep -qiE 'finding [0-9]+/[0-9]+: reject: uncheckable.*match[ _]limit' "$E2E_MILTER_LOG"; then
		e2e_diag "the milter's log does not report the match limit"
		return 1
	fi
	awk -v s="$secs" 'BEGIN { exit !(s < 10) }'
}

t_excerpt_log() {
	local line width windows mark
	mark=$(log_mark "$E2E_MILTER_LOG")
	e2e_send excerpt "$DATA/excerpt.eml" "$FROM" "$RELAY"
	e2e_expect_reply 550 5.7.1 external-link phone-number || return 1
	width=$(sed -n 's/^ *excerpt_chars = \([0-9]*\);.*/\1/p' "$top_srcdir/conf/relaygate.conf")
	width=$((width + 1))
	# the long line and the subject, each cut into every window one
	# character longer than an excerpt may be
	windows=$GEN/windows
	{
		grep -F 'ring +44' "$DATA/excerpt.eml"
		sed -n 's/^Subject: //p' "$DATA/excerpt.eml"
	} | awk -v w="$width" '{ for (i = 1; i + w - 1 <= length($0); i++) print substr($0, i, w) }' >"$windows"
	log_since "$E2E_MILTER_LOG" "$mark" >"$GEN/excerpt.log"
	if grep -F -f "$windows" "$GEN/excerpt.log" >"$GEN/excerpt.hits"; then
		e2e_diag "the milter logged more than $((width - 1)) characters of the message:"
		sed 's/^/#     /' "$GEN/excerpt.hits" | head -n 5
		return 1
	fi
	# and it did log the findings, so the check above means something
	grep -qF 'https://northwind-garden.example/planters/' "$GEN/excerpt.log" || {
		e2e_diag "the finding's excerpt is not in the log"
		return 1
	}
	echo "# $(wc -l <"$windows") windows of $width characters of a $(grep -F 'ring +44' "$DATA/excerpt.eml" | wc -c)-byte line and the subject: none in the milter's log ($(wc -l <"$GEN/excerpt.log") lines); Postfix's log: $(grep -c -F -f "$windows" "$E2E_MAILLOG" || true) hits"
}

t_kill_mid_data() {
	local marker=kill.$$.$RANDOM out count ticks
	rm -f "$GEN/ready" "$GEN/go"
	python3 "$CLIENT" slow "$E2E_SMTP_PORT" "$FROM" "$RELAY" "$DATA/pass.eml" \
		"$marker" "$GEN/ready" "$GEN/go" >"$GEN/slow.out" 2>&1 9>&- &
	local client=$!
	ticks=200
	while [ ! -e "$GEN/ready" ] && [ "$ticks" -gt 0 ]; do
		e2e_sleep_tick
		ticks=$((ticks - 1))
	done
	[ -e "$GEN/ready" ] || { e2e_diag "the slow client did not reach DATA"; return 1; }
	e2e_kill_milter || return 1
	touch "$GEN/go"
	wait "$client" || true
	out=$(cat "$GEN/slow.out")
	echo "# killed during DATA: the client got \"$(printf '%s' "$out" | cut -c1-70)\""
	case $out in
	"451 4.7.1"*) ;;
	*)
		e2e_diag "after SIGKILL during DATA: $out (want 451 4.7.1)"
		return 1
		;;
	esac
	e2e_start_milter "$CONF" || return 1
	sleep 1
	e2e_expect_not_in_sink "$marker" || return 1
	# the client kept it and tries again
	touch "$GEN/go"
	python3 "$CLIENT" slow "$E2E_SMTP_PORT" "$FROM" "$RELAY" "$DATA/pass.eml" \
		"$marker" "$GEN/ready" "$GEN/go" >"$GEN/slow.out" 2>&1 9>&- || true
	case $(cat "$GEN/slow.out") in
	250*) ;;
	*)
		e2e_diag "retry after the restart: $(cat "$GEN/slow.out")"
		return 1
		;;
	esac
	e2e_wait_for_sink_message "$marker" 15 >/dev/null || {
		e2e_diag "the retried message did not reach the sink"
		return 1
	}
	count=$(grep -rlF "X-E2E-Id: $marker" "$E2E_SINK_DIR" | wc -l)
	echo "# after a restart the retry was delivered; copies at the sink: $count"
	[ "$count" = 1 ]
}

# tiny_mount DIR - a 256 KB tmpfs for the milter user at DIR
tiny_mount() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=256k,mode=0700,uid=$MUID,gid=$MGID" tmpfs "$1" || return 1
	TINY_MOUNTS="$TINY_MOUNTS $1"
}

# tiny_fill DIR - fill the file system at DIR up to the last byte
tiny_fill() {
	dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null || true
	dd if=/dev/zero of="$1/fill2" bs=512 2>/dev/null || true
	dd if=/dev/zero of="$1/fill3" bs=1 2>/dev/null || true
}

e2e_cleanup_hook() {
	local m
	for m in $TINY_MOUNTS; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
}
TINY_MOUNTS=

t_disk_full() {
	local tiny=$E2E_DIR/tiny conf=$GEN/tiny.conf r held0 held1
	if ! tiny_mount "$tiny/spool" 2>"$E2E_OUT/mount.err" || ! tiny_mount "$tiny/store"; then
		echo "# SKIP: cannot mount a tmpfs here: $(cat "$E2E_OUT/mount.err")"
		return 0
	fi
	sed -e "s|spool_dir = \"$E2E_MILTER_DIR/spool\"|spool_dir = \"$tiny/spool\"|" \
		-e "s|store_dir = \"$E2E_QUARANTINE_DIR\"|store_dir = \"$tiny/store\"|" "$CONF" >"$conf"
	r=$(reload "$conf") || return 1
	[ "$r" = ok ] || { e2e_diag "the tmpfs configuration was refused"; return 1; }

	# the spool: a body past memory_spool (16K) must spill, and cannot
	cp "$DATA/pass.eml" "$GEN/big.eml"
	while [ "$(wc -c <"$GEN/big.eml")" -lt 40000 ]; do
		printf '\n%s\n' "The cedar planter box is made from untreated western red cedar, which
weathers to a silver grey; line it with the membrane before you add compost." >>"$GEN/big.eml"
	done
	tiny_fill "$tiny/spool"
	e2e_send spool-full "$GEN/big.eml" "$FROM" "$RELAY"
	e2e_expect_reply 451 4.7.1 || return 1
	e2e_expect_not_in_sink || return 1
	rm -f "$tiny/spool"/fill*
	e2e_send spool-free "$GEN/big.eml" "$FROM" "$RELAY"
	e2e_expect_reply 250 || return 1
	e2e_wait_for_sink_message "$E2E_LAST_ID" 10 >/dev/null || return 1
	echo "# spool full: 451 4.7.1, nothing delivered; with room again: delivered"

	# the store: full, a quarantine-level message gets 451 and no record
	# (counted with room again: relaygate quarantine cannot open a full
	# store, it writes when it opens the index)
	held0=$(held_count "$conf")
	tiny_fill "$tiny/store"
	e2e_send store-full "$DATA/hold.eml" "$FROM" "$RELAY"
	e2e_expect_reply 451 4.7.1 || return 1
	e2e_expect_not_in_sink || return 1
	rm -f "$tiny/store"/fill*
	held1=$(held_count "$conf")
	if [ "$held1" != "$held0" ]; then
		e2e_diag "a record appeared in the full store ($held0 -> $held1)"
		return 1
	fi
	echo "# store full: 451 4.7.1, no record"
	# the index's WAL takes about 100 KB a held message until SQLite
	# checkpoints it (at 4 MB): 1 MB lets a few in before it is full
	mount -o remount,size=1m "$tiny/store" || return 1

	# a burst into the nearly empty store until it fills: every 250 is
	# a record with the exact bytes sent, every other reply a 451
	python3 "$CLIENT" burst "$E2E_SMTP_PORT" "$FROM" "$RELAY" "$DATA/hold.eml" \
		"burst.$$" "$BURST" 10 "$GEN/burst.out" 9>&- || return 1
	local ok250 t451 other stored id mismatched=0
	ok250=$(awk '$2 == 250' "$GEN/burst.out" | wc -l)
	t451=$(awk '$2 == 451 && $3 == "4.7.1"' "$GEN/burst.out" | wc -l)
	other=$((BURST - ok250 - t451))
	# room to read the store again
	mount -o remount,size=8m "$tiny/store" || return 1
	stored=$(($(held_count "$conf") - held0))
	echo "# burst of $BURST into 1 MB: $ok250 got 250 and are stored ($stored records), $t451 got 451 4.7.1, $other other"
	if [ "$other" != 0 ] || [ "$stored" != "$ok250" ] || [ "$t451" = 0 ] || [ "$ok250" = 0 ]; then
		e2e_diag "replies: $(awk '{ print $2 }' "$GEN/burst.out" | sort | uniq -c | tr '\n' ' ')"
		awk '$2 != 250' "$GEN/burst.out" | head -n 3 | sed 's/^/#     /'
		return 1
	fi
	# each record: the marker of a message that got 250, and its bytes
	awk '$2 == 250 { print "burst.'$$'." $1 }' "$GEN/burst.out" | sort >"$GEN/burst.accepted"
	: >"$GEN/burst.stored"
	for id in $(q "$conf" list --all --json | sed -n 's/^{"id":"\([0-9a-f]*\)".*/\1/p'); do
		q "$conf" show --raw "$id" >"$GEN/raw" 2>/dev/null || continue
		e2e_header_values "$GEN/raw" X-E2E-Id >>"$GEN/burst.stored"
		if ! cmp -s <(e2e_body "$DATA/hold.eml") <(e2e_body "$GEN/raw"); then
			mismatched=$((mismatched + 1))
		fi
	done
	sort -o "$GEN/burst.stored" "$GEN/burst.stored"
	if ! cmp -s "$GEN/burst.accepted" "$GEN/burst.stored" || [ "$mismatched" != 0 ]; then
		e2e_diag "accepted and stored differ ($mismatched bodies differ):"
		diff "$GEN/burst.accepted" "$GEN/burst.stored" | head -n 10 | sed 's/^/#     /'
		return 1
	fi
	if grep -rqF "X-E2E-Id: burst.$$." "$E2E_SINK_DIR"; then
		# notices quote the headers: only a message's own header counts
		local f
		for f in $(grep -rlF "X-E2E-Id: burst.$$." "$E2E_SINK_DIR"); do
			if e2e_header_values "$f" X-E2E-Id | grep -q "^burst\.$$\."; then
				e2e_diag "a held message reached the sink: $f"
				return 1
			fi
		done
	fi
	echo "# every accepted message is a stored record with the bytes sent; none delivered; $(find "$tiny/store/tmp" -type f 2>/dev/null | wc -l) temp files left"
	r=$(reload "$CONF.orig") || return 1
	[ "$r" = ok ]
}

t_sigterm() {
	e2e_stop_milter TERM 15 || return 1
	if [ "$E2E_MILTER_STATUS" != 0 ]; then
		e2e_diag "relaygate-milter exited $E2E_MILTER_STATUS on SIGTERM"
		return 1
	fi
}

# ---------------------------------------------------------------- run

e2e_init
CONF=$E2E_DIR/relaygate.conf
GEN=$E2E_DIR/generated
mkdir "$GEN"
chmod 755 "$GEN"

e2e_start_sink
e2e_write_postfix_config
# 200 sessions at once, each with its own smtpd and milter connection
e2e_postconf default_process_limit=250
e2e_start_postfix
e2e_write_milter_config "$CONF" 'mode = "enforce";
limits: {
  memory_spool = "16K";
  max_message_size = "512K";
};
rules: {
  emoji = { action = "quarantine"; };
  uncheckable = { action = "reject"; };
};
# a phrase that backtracks catastrophically on "aaa...ac"; the loader
# takes it (no capture, no verb, cannot match empty text)
phrases: { xx: { promotional = [ "(?:a+)+[bd]" ]; }; };'
cp "$CONF" "$CONF.orig"
e2e_start_milter "$CONF"
echo "# Postfix on 127.0.0.1:$E2E_SMTP_PORT, sink on 127.0.0.1:$E2E_SINK_PORT, milter as $MUSER on $E2E_MILTER_SPEC; $([ "$LONG" = 1 ] && echo long || echo short) run"

run_case "privileges: started as root, runs as $MUSER (uid, gid, groups); socket 0660 $MUSER:$MGROUP" \
	t_privileges
run_case "milter.user missing: refused before the socket is made; \"root\" only explicitly, with a warning" \
	t_refuse_user
run_case "no shell: no system/popen/exec*p//bin/sh in the sources; only store/deliver.c starts a program" \
	t_no_shell
run_case "review commands: only root and quarantine.review_group members (SUDO_USER not taken from others)" \
	t_review_group
run_case "load: 200 concurrent sessions, 4 x $PER_KIND mixed messages x $ROUNDS: all accounted for, no tempfail; RSS back near baseline" \
	t_load
run_case "store and spool: directories 0700, files 0600, owned by $MUSER" t_store_modes
run_case "notices to the senders of held messages: sent, none failed, none twice$([ "$LONG" = 1 ] && echo ', all delivered')" \
	t_notices
run_case "reload under load (SIGUSR1, good and broken files): no failed transaction; broken file refused with FILE:LINE, old policy kept" \
	t_reload_under_load
run_case "catastrophic backtracking phrase: stopped by the match limit, reported in the reply and log, answered in seconds" \
	t_backtrack
run_case "logs: no more of a message than excerpt_chars" t_excerpt_log
run_case "SIGKILL during DATA: 451 4.7.1, nothing delivered; after a restart the retry is delivered once" \
	t_kill_mid_data
run_case "spool and store on a full 256 KB tmpfs: 451 4.7.1; nothing accepted that was not stored" \
	t_disk_full
run_case "milter exits 0 on SIGTERM" t_sigterm

echo "1..$n"
echo "# $((n - failed)) of $n passed in $(e2e_elapsed) s"
[ "$failed" -eq 0 ]

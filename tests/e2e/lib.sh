# shellcheck shell=bash
# Globals are read by the scripts that source this file, and several
# functions take optional arguments:
# shellcheck disable=SC2034,SC2119,SC2120
#
# lib.sh - a private Postfix on loopback with relaygate-milter attached and
# an smtp-sink as the next hop.  Sourced by tests/e2e/postfix.sh and
# scripts/demo-run; needs root (Postfix's master runs as root).
#
# Typical use:
#   . tests/e2e/lib.sh
#   e2e_require || exit 77          # E2E_WHY says what is missing
#   e2e_init                        # temp dir, ports, EXIT trap
#   e2e_start_sink
#   e2e_write_milter_config "$E2E_DIR/relaygate.conf"
#   e2e_start_milter "$E2E_DIR/relaygate.conf"
#   e2e_write_postfix_config        # after the sink: uses its port
#   e2e_start_postfix
#   e2e_send NAME FILE FROM TO[,TO...]
#   e2e_expect_reply 550 5.7.1 order-id
#
# Everything lives under one mktemp directory ($E2E_DIR); only 127.0.0.1 is
# used, ports are picked free at run time, and an EXIT trap stops Postfix,
# the sink and the milter and removes the directory (printing the tails of
# the logs when something failed).  E2E_KEEP=1 keeps the directory for a
# post-mortem; E2E_VERBOSE=1 shows each step; E2E_MILTER_TRANSPORT=inet
# puts the milter on a loopback TCP port instead of a unix socket.
# E2E_MILTER_USER=NAME has the milter drop from root to NAME (milter.user;
# default root, kept explicitly) and gives it its directory.
# E2E_VALGRIND=1 runs the milter under valgrind memcheck (no JIT, GLib
# without slices, tests/milter/valgrind.supp): the run fails when a
# milter that exited reports an error or a definite or indirect leak.

PATH=$PATH:/usr/sbin:/sbin:/usr/lib/postfix/sbin
export PATH

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$E2E_LIB_DIR/../.." && pwd)}"
: "${top_builddir:=$(cd "$E2E_LIB_DIR/../.." && pwd)}"
E2E_DATA=$top_srcdir/tests/data
E2E_MILTER_BIN=${E2E_MILTER_BIN:-$top_builddir/milter/relaygate-milter}
E2E_MILTER_USER=${E2E_MILTER_USER:-root}
E2E_CLI_BIN=${E2E_CLI_BIN:-$top_builddir/cli/relaygate}

E2E_DIR=
E2E_MILTER_PID=
E2E_SINK_PID=
E2E_POSTFIX_UP=0
E2E_FAILED=0
E2E_T0=$(date +%s%N)

# ---------------------------------------------------------------- messages

e2e_note() { printf '%s\n' "$*"; }
e2e_diag() { printf '#   %s\n' "$*"; }
e2e_debug() { [ "${E2E_VERBOSE:-0}" = 1 ] && printf '# [%s] %s\n' "$(e2e_elapsed)" "$*"; return 0; }

# e2e_elapsed - seconds since the library was loaded, e.g. "3.42".
e2e_elapsed() {
	local now
	now=$(date +%s%N)
	awk -v a="$E2E_T0" -v b="$now" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'
}

# e2e_sleep_tick - a short pause for polling loops.
e2e_sleep_tick() { sleep 0.05; }

# ---------------------------------------------------------------- prerequisites

# e2e_require - root and the tools are here; if not, set E2E_WHY to the
# reason and return 1 (the test exits 77, automake's SKIP).
e2e_require() {
	local cmd missing=''
	E2E_WHY=
	if [ "$(id -u)" != 0 ]; then
		E2E_WHY="needs root to run a private Postfix instance"
		return 1
	fi
	for cmd in postfix postconf postqueue smtp-sink swaks runuser perl; do
		command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
	done
	if [ -n "$missing" ]; then
		E2E_WHY="missing:$missing (Debian: apt-get install postfix swaks)"
		return 1
	fi
	if ! id postfix >/dev/null 2>&1; then
		E2E_WHY="no 'postfix' user (is the postfix package installed?)"
		return 1
	fi
	return 0
}

# e2e_require_milter - the milter binary must be built; 1 with a message if not.
e2e_require_milter() {
	if [ ! -x "$E2E_MILTER_BIN" ]; then
		e2e_note "error: $E2E_MILTER_BIN is not built (run make first)"
		return 1
	fi
	return 0
}

# ---------------------------------------------------------------- setup

# e2e_free_ports N - print N distinct free TCP ports on 127.0.0.1, one a line.
# Chosen below the kernel's ephemeral range so outgoing connections (Postfix
# to the sink) cannot take them between the pick and the bind.
e2e_free_ports() {
	local n=$1
	if command -v python3 >/dev/null 2>&1; then
		python3 - "$n" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
held, ports = [], []
while len(ports) < n:
    p = random.randint(20000, 32000)
    if p in ports:
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    held.append(s)
    ports.append(p)
for p in ports:
    print(p)
EOF
		return
	fi
	# No python3: a port nobody answers on is taken as free.
	local p got=" "
	while [ "$n" -gt 0 ]; do
		p=$((20000 + RANDOM % 12000))
		case $got in *" $p "*) continue ;; esac
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			got="$got$p "
			echo "$p"
			n=$((n - 1))
		fi
	done
}

# e2e_init - make the temp tree, pick ports, install the EXIT trap.
# Sets E2E_DIR, E2E_PF_ETC, E2E_PF_QUEUE, E2E_MAILLOG, E2E_SINK_DIR,
# E2E_SMTP_PORT, E2E_SINK_PORT, and the milter's socket: E2E_MILTER_SPEC
# in libmilter's spelling, E2E_MILTER_PF in Postfix's.  The socket is a unix
# one in the temp dir, or with E2E_MILTER_TRANSPORT=inet a loopback port.
e2e_init() {
	local base=${TMPDIR:-/tmp} ports
	E2E_DIR=$(mktemp -d "$base/relaygate-e2e.XXXXXX")
	chmod 755 "$E2E_DIR"
	if ! runuser -u postfix -- test -x "$E2E_DIR"; then
		# A private TMPDIR the postfix user cannot traverse: use /tmp.
		rmdir "$E2E_DIR"
		E2E_DIR=$(mktemp -d /tmp/relaygate-e2e.XXXXXX)
		chmod 755 "$E2E_DIR"
	fi
	# The EXIT trap may fire while a case's output is redirected: it
	# reports on fd 9, the script's own stdout (closed for the daemons).
	exec 9>&1
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP

	E2E_PF_ETC=$E2E_DIR/postfix/etc
	E2E_PF_QUEUE=$E2E_DIR/postfix/queue
	E2E_PF_DATA=$E2E_DIR/postfix/data
	E2E_LOG_DIR=$E2E_DIR/log
	E2E_MAILLOG=$E2E_LOG_DIR/maillog
	E2E_SINK_DIR=$E2E_DIR/sink
	E2E_MILTER_DIR=$E2E_DIR/milter
	E2E_MILTER_LOG=$E2E_LOG_DIR/milter.log
	E2E_SINK_LOG=$E2E_LOG_DIR/sink.log
	E2E_OUT=$E2E_DIR/out
	mkdir -p "$E2E_PF_ETC" "$E2E_PF_QUEUE" "$E2E_PF_DATA" "$E2E_LOG_DIR" \
		"$E2E_SINK_DIR" "$E2E_MILTER_DIR/spool" "$E2E_OUT"
	chmod 755 "$E2E_DIR/postfix" "$E2E_PF_ETC" "$E2E_PF_QUEUE" \
		"$E2E_LOG_DIR" "$E2E_MILTER_DIR"
	chmod 700 "$E2E_MILTER_DIR/spool"
	chown root:root "$E2E_PF_QUEUE"
	chown postfix "$E2E_PF_DATA" "$E2E_SINK_DIR" "$E2E_LOG_DIR"
	: >"$E2E_MILTER_LOG"
	: >"$E2E_SINK_LOG"

	# Names in the SMTP greetings, unique to this run.
	E2E_TAG=$(basename "$E2E_DIR" | tr -cd '[:alnum:]' | tr '[:upper:]' '[:lower:]')
	E2E_MYHOSTNAME=mx.$E2E_TAG.test
	E2E_SINK_HOSTNAME=sink.$E2E_TAG.test
	ports=$(e2e_free_ports 3)
	E2E_SMTP_PORT=$(echo "$ports" | sed -n 1p)
	E2E_SINK_PORT=$(echo "$ports" | sed -n 2p)
	E2E_MILTER_SOCKET=$E2E_MILTER_DIR/milter.sock
	case ${E2E_MILTER_TRANSPORT:-unix} in
	inet)
		E2E_MILTER_PORT=$(echo "$ports" | sed -n 3p)
		E2E_MILTER_SPEC=inet:$E2E_MILTER_PORT@127.0.0.1
		E2E_MILTER_PF=inet:127.0.0.1:$E2E_MILTER_PORT
		;;
	*)
		E2E_MILTER_PORT=
		E2E_MILTER_SPEC=unix:$E2E_MILTER_SOCKET
		E2E_MILTER_PF=$E2E_MILTER_SPEC
		;;
	esac
	e2e_debug "dir $E2E_DIR smtpd 127.0.0.1:$E2E_SMTP_PORT sink 127.0.0.1:$E2E_SINK_PORT"
}

# e2e_wait_port PORT [TIMEOUT_S] - until something accepts on 127.0.0.1:PORT.
e2e_wait_port() {
	local port=$1 ticks=$((${2:-10} * 20))
	while [ "$ticks" -gt 0 ]; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		e2e_sleep_tick
		ticks=$((ticks - 1))
	done
	return 1
}

# e2e_banner_has PORT TEXT - the SMTP greeting on 127.0.0.1:PORT contains
# TEXT (tells our server from another that took the port).
e2e_banner_has() {
	local line
	line=$( (exec 3<>"/dev/tcp/127.0.0.1/$1" && IFS= read -r -t 2 l <&3 &&
		printf '%s' "$l") 2>/dev/null) || return 1
	case $line in
	*"$2"*) return 0 ;;
	esac
	return 1
}

# e2e_pid_alive PID - running (not gone, not a zombie waiting to be reaped).
e2e_pid_alive() {
	local state
	[ -n "$1" ] && [ -r "/proc/$1/status" ] || return 1
	state=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# e2e_wait_exit PID [TIMEOUT_S] - until PID is gone; reaps it when it is our
# child, with its exit status in E2E_WAIT_STATUS.  Returns 1 on timeout.
e2e_wait_exit() {
	local pid=$1 ticks=$((${2:-10} * 20))
	while e2e_pid_alive "$pid"; do
		if [ "$ticks" -le 0 ]; then
			return 1
		fi
		e2e_sleep_tick
		ticks=$((ticks - 1))
	done
	E2E_WAIT_STATUS=0
	wait "$pid" 2>/dev/null || E2E_WAIT_STATUS=$?
	return 0
}

# ---------------------------------------------------------------- smtp-sink

# e2e_start_sink - smtp-sink on 127.0.0.1:$E2E_SINK_PORT, one file per
# message in $E2E_SINK_DIR.  Start it before e2e_write_postfix_config: when
# the port was taken in the meantime, another one is picked.
e2e_start_sink() {
	local attempt ticks
	for attempt in 1 2 3; do
		smtp-sink -u postfix -h "$E2E_SINK_HOSTNAME" \
			-d "$E2E_SINK_DIR/%M." "127.0.0.1:$E2E_SINK_PORT" 64 \
			>>"$E2E_SINK_LOG" 2>&1 9>&- </dev/null &
		E2E_SINK_PID=$!
		ticks=200
		while [ "$ticks" -gt 0 ] && e2e_pid_alive "$E2E_SINK_PID"; do
			if e2e_banner_has "$E2E_SINK_PORT" "$E2E_SINK_HOSTNAME"; then
				e2e_debug "smtp-sink pid $E2E_SINK_PID (attempt $attempt)"
				return 0
			fi
			e2e_sleep_tick
			ticks=$((ticks - 1))
		done
		kill -KILL "$E2E_SINK_PID" 2>/dev/null || true
		e2e_wait_exit "$E2E_SINK_PID" 5 || true
		E2E_SINK_PID=
		E2E_SINK_PORT=$(e2e_free_ports 1)
	done
	e2e_note "error: smtp-sink did not start (see $E2E_SINK_LOG):"
	tail -n 5 "$E2E_SINK_LOG" | sed 's/^/#   /'
	return 1
}

e2e_stop_sink() {
	if [ -n "$E2E_SINK_PID" ]; then
		kill "$E2E_SINK_PID" 2>/dev/null || true
		if ! e2e_wait_exit "$E2E_SINK_PID" 5; then
			kill -KILL "$E2E_SINK_PID" 2>/dev/null || true
			e2e_wait_exit "$E2E_SINK_PID" 5 || true
		fi
		E2E_SINK_PID=
	fi
}

# e2e_sink_find MARKER - print the sink file whose own header is
# "X-E2E-Id: MARKER" (not a notice quoting the message's headers).
e2e_sink_find() {
	local f
	for f in $(grep -rlF -e "X-E2E-Id: $1" "$E2E_SINK_DIR" 2>/dev/null); do
		if e2e_header_values "$f" X-E2E-Id | grep -qxF -e "$1"; then
			echo "$f"
			return 0
		fi
	done
}

# e2e_wait_for_sink_message MARKER [TIMEOUT_S] - wait until the message
# carrying MARKER has reached the sink and Postfix has finished with it;
# print the sink file.  Returns 1 on timeout.
e2e_wait_for_sink_message() {
	local marker=$1 ticks=$((${2:-10} * 20)) file='' qid
	while [ "$ticks" -gt 0 ]; do
		file=$(e2e_sink_find "$marker")
		[ -n "$file" ] && break
		e2e_sleep_tick
		ticks=$((ticks - 1))
	done
	[ -n "$file" ] || return 1
	# The dump is written while the data arrives; Postfix logs "removed"
	# once the sink has answered the final dot for every recipient.
	qid=$(sed -n 's/^[[:space:]].*(Postfix) with [A-Z0-9]* id \([0-9A-Za-z]*\).*/\1/p' "$file" | head -n 1)
	if [ -n "$qid" ]; then
		while [ "$ticks" -gt 0 ] && ! grep -q " $qid: removed" "$E2E_MAILLOG"; do
			e2e_sleep_tick
			ticks=$((ticks - 1))
		done
	fi
	echo "$file"
}

# ---------------------------------------------------------------- Postfix

# e2e_write_postfix_config [MILTER] - main.cf and master.cf for the private
# instance.  MILTER is Postfix's milter spec (default: $E2E_MILTER_PF;
# "none" for no milter).
e2e_write_postfix_config() {
	local milter=${1:-$E2E_MILTER_PF}
	if [ "$milter" = none ]; then
		milter=
	fi
	cat >"$E2E_PF_ETC/main.cf" <<EOF
# Private relaygate end-to-end instance: loopback only, no DNS, no syslog.
compatibility_level = 3.6
queue_directory = $E2E_PF_QUEUE
data_directory = $E2E_PF_DATA
mail_owner = postfix
setgid_group = postdrop
myhostname = $E2E_MYHOSTNAME
mydomain = $E2E_TAG.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$E2E_SINK_PORT
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtp_connect_timeout = 5s
disable_mime_output_conversion = yes
append_dot_mydomain = no
biff = no
readme_directory = no
maillog_file = $E2E_MAILLOG
maillog_file_prefixes = $E2E_DIR
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 0h
in_flow_delay = 0
smtpd_milters = $milter
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 5s
milter_command_timeout = 15s
milter_content_timeout = 30s
EOF
	cat >"$E2E_PF_ETC/master.cf" <<EOF
# service type private unpriv chroot wakeup maxproc command
127.0.0.1:$E2E_SMTP_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	e2e_backdate_config
}

# e2e_backdate_config - Postfix rereads a main.cf modified within the last
# second until it is older (0.3 s naps, about 2 s in all): date it back.
e2e_backdate_config() {
	touch -d "@$(($(date +%s) - 60))" "$E2E_PF_ETC/main.cf" "$E2E_PF_ETC/master.cf"
}

# e2e_postconf ARGS... - postconf on the private instance (then backdated).
e2e_postconf() {
	postconf -c "$E2E_PF_ETC" "$@" || return 1
	e2e_backdate_config
}

# e2e_start_postfix - start the instance, wait for its smtpd port.  When
# the port was taken in the meantime, another one is picked.
e2e_start_postfix() {
	local attempt port ticks
	[ -f "$E2E_PF_ETC/main.cf" ] || e2e_write_postfix_config
	for attempt in 1 2 3; do
		if postfix -c "$E2E_PF_ETC" start >>"$E2E_LOG_DIR/postfix.out" 2>&1 9>&- </dev/null; then
			E2E_POSTFIX_UP=1
			break
		fi
		if [ "$attempt" = 3 ] ||
			! grep -q "bind 127.0.0.1 port $E2E_SMTP_PORT: Address already in use" \
				"$E2E_MAILLOG" 2>/dev/null; then
			e2e_note "error: postfix -c $E2E_PF_ETC start failed:"
			tail -n 5 "$E2E_MAILLOG" 2>/dev/null | sed 's/^/#   /'
			return 1
		fi
		port=$(e2e_free_ports 1)
		sed -i "s/^127\.0\.0\.1:$E2E_SMTP_PORT /127.0.0.1:$port /" "$E2E_PF_ETC/master.cf"
		e2e_backdate_config
		E2E_SMTP_PORT=$port
	done
	ticks=200
	while ! e2e_banner_has "$E2E_SMTP_PORT" "$E2E_MYHOSTNAME"; do
		if [ "$ticks" -le 0 ]; then
			e2e_note "error: Postfix smtpd is not answering on 127.0.0.1:$E2E_SMTP_PORT"
			return 1
		fi
		e2e_sleep_tick
		ticks=$((ticks - 1))
	done
	e2e_debug "postfix up (attempt $attempt)"
}

# e2e_postfix_master_pid - the running master's pid, if any.
e2e_postfix_master_pid() {
	local pid
	pid=$(tr -d ' \n' <"$E2E_PF_QUEUE/pid/master.pid" 2>/dev/null) || return 1
	e2e_pid_alive "$pid" && echo "$pid"
}

# e2e_stop_postfix - stop the instance and wait for its master to exit.
e2e_stop_postfix() {
	local pid
	[ "$E2E_POSTFIX_UP" = 1 ] || return 0
	pid=$(e2e_postfix_master_pid) || pid=
	postfix -c "$E2E_PF_ETC" stop >>"$E2E_LOG_DIR/postfix.out" 2>&1 || true
	if [ -n "$pid" ] && ! e2e_wait_exit "$pid" 10; then
		postfix -c "$E2E_PF_ETC" abort >>"$E2E_LOG_DIR/postfix.out" 2>&1 || true
		kill -KILL "$pid" 2>/dev/null || true
	fi
	E2E_POSTFIX_UP=0
}

# e2e_queue_held QID - the message is in the hold queue (quarantined).
e2e_queue_held() {
	[ -n "$1" ] || return 1
	postqueue -c "$E2E_PF_ETC" -j 2>/dev/null | grep -F "\"$1\"" |
		grep -q '"queue_name": *"hold"'

}

# e2e_quarantined CONF QID - relaygate holds the message Postfix knew as
# QID in its quarantine store (state held); prints its record id.
e2e_quarantined() {
	local conf=$1 qid=$2 line
	[ -n "$qid" ] || return 1
	line=$("$E2E_CLI_BIN" quarantine -c "$conf" list --json 2>/dev/null |
		grep -F "\"queue_id\":\"$qid\"") || return 1
	printf '%s\n' "$line" | sed -n 's/^{"id":"\([0-9a-f]*\)".*/\1/p'
}

# ---------------------------------------------------------------- milter

# e2e_write_milter_config FILE [LIBCONFIG TEXT] - a config with the socket,
# spool and quarantine store in the temp tree (notices and releases to this
# instance's smtpd); the extra text (groups such as limits: {...}) is
# appended, and replaces the quarantine group when it has one.  Unset
# settings take the built-in defaults.
e2e_write_milter_config() {
	local file=$1 extra=${2:-}
	E2E_QUARANTINE_DIR=$E2E_MILTER_DIR/quarantine
	{
		echo "# relaygate end-to-end test configuration"
		echo "milter: {"
		echo "  socket = \"$E2E_MILTER_SPEC\";"
		echo "  spool_dir = \"$E2E_MILTER_DIR/spool\";"
		echo "  user = \"$E2E_MILTER_USER\";"
		echo "};"
		case $extra in
		*quarantine:*) ;;
		*)
			echo "quarantine: {"
			echo "  store_dir = \"$E2E_QUARANTINE_DIR\";"
			echo "  delivery = \"smtp:127.0.0.1:$E2E_SMTP_PORT\";"
			echo "  review_group = \"\";"
			echo "};"
			;;
		esac
		if [ -n "$extra" ]; then
			printf '%s\n' "$extra"
		fi
	} >"$file"
	if [ "$E2E_MILTER_USER" != root ]; then
		# the milter makes its store here, as that user
		chown "$E2E_MILTER_USER:" "$E2E_MILTER_DIR" "$E2E_MILTER_DIR/spool"
	fi
}

# e2e_start_milter CONFIG - run relaygate-milter in the foreground on
# $E2E_MILTER_SPEC (logs to $E2E_MILTER_LOG); wait until it accepts.
e2e_start_milter() {
	local conf=$1 ticks=200 up
	local -a run=("$E2E_MILTER_BIN")
	e2e_require_milter || return 1
	rm -f "$E2E_MILTER_SOCKET"
	if [ "${E2E_VALGRIND:-0}" = 1 ]; then
		run=(env RELAYGATE_NO_JIT=1 G_SLICE=always-malloc valgrind
			--vgdb=no --leak-check=full "--show-leak-kinds=definite,indirect"
			"--errors-for-leak-kinds=definite,indirect" --error-exitcode=99
			"--suppressions=$top_srcdir/tests/milter/valgrind.supp"
			"--log-file=$E2E_LOG_DIR/valgrind.%p.log" "$E2E_MILTER_BIN")
		ticks=1200
	fi
	echo "=== $(date '+%T') start: ${run[*]} -f -c $conf -p $E2E_MILTER_SPEC" >>"$E2E_MILTER_LOG"
	"${run[@]}" -f -c "$conf" -p "$E2E_MILTER_SPEC" \
		>>"$E2E_MILTER_LOG" 2>&1 9>&- </dev/null &
	E2E_MILTER_PID=$!
	while [ "$ticks" -gt 0 ] && e2e_pid_alive "$E2E_MILTER_PID"; do
		up=0
		if [ -n "$E2E_MILTER_PORT" ]; then
			(exec 3<>"/dev/tcp/127.0.0.1/$E2E_MILTER_PORT") 2>/dev/null && up=1
		elif [ -S "$E2E_MILTER_SOCKET" ] && e2e_unix_connect "$E2E_MILTER_SOCKET"; then
			# The milter makes it 0660 for the MTA's group (as
			# made: E2E_MILTER_SOCKET_STAT); Postfix's smtpd runs
			# as postfix.
			E2E_MILTER_SOCKET_STAT=$(stat -c '%a %U %G' "$E2E_MILTER_SOCKET")
			chmod 666 "$E2E_MILTER_SOCKET"
			up=1
		fi
		if [ "$up" = 1 ]; then
			e2e_debug "milter pid $E2E_MILTER_PID on $E2E_MILTER_SPEC"
			return 0
		fi
		e2e_sleep_tick
		ticks=$((ticks - 1))
	done
	e2e_note "error: relaygate-milter did not come up on $E2E_MILTER_SPEC:"
	tail -n 20 "$E2E_MILTER_LOG" | sed 's/^/#   /'
	return 1
}

# e2e_unix_connect PATH - something accepts on the unix socket PATH.
e2e_unix_connect() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$1" 2>/dev/null
	else
		[ -S "$1" ] && sleep 0.2
	fi
}

# e2e_stop_milter [SIGNAL] [TIMEOUT_S] - signal the milter (default TERM)
# and wait for it to exit.  Sets E2E_MILTER_STATUS to its exit status.
e2e_stop_milter() {
	local sig=${1:-TERM} timeout=${2:-10} pid=$E2E_MILTER_PID
	# memcheck's leak search at exit takes a while
	[ "${E2E_VALGRIND:-0}" = 1 ] && timeout=$((timeout + 60))
	E2E_MILTER_STATUS=
	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
	if ! e2e_wait_exit "$pid" "$timeout"; then
		e2e_note "# relaygate-milter ignored SIG$sig for ${timeout}s: killing it"
		kill -KILL "$pid" 2>/dev/null || true
		e2e_wait_exit "$pid" 5 || true
		E2E_MILTER_PID=
		return 1
	fi
	E2E_MILTER_STATUS=$E2E_WAIT_STATUS
	E2E_MILTER_PID=
	echo "=== $(date '+%T') stopped with SIG$sig" >>"$E2E_MILTER_LOG"
	return 0
}

# e2e_kill_milter - SIGKILL, as a crash would.
e2e_kill_milter() { e2e_stop_milter KILL 5; }

# ---------------------------------------------------------------- sending

# e2e_send NAME FILE FROM TO[,TO...] - send FILE through Postfix with swaks.
# A unique "X-E2E-Id:" header is put on top so the sink copy can be found.
# Sets E2E_LAST (transcript file), E2E_LAST_ID (marker), E2E_LAST_MSG (the
# exact data sent) and E2E_LAST_RC (swaks' exit status).
e2e_send() {
	local name=$1 file=$2 from=$3 to=$4
	E2E_LAST_ID=$name.$$.$RANDOM$RANDOM
	E2E_LAST_MSG=$E2E_OUT/$name.sent
	E2E_LAST=$E2E_OUT/$name.smtp
	# swaks ends DATA with CRLF "." CRLF after the data as given, so a
	# final newline would become an extra empty line: drop it.
	{
		printf 'X-E2E-Id: %s\n' "$E2E_LAST_ID"
		perl -pe 's/\r?\n\z// if eof' "$file"
	} >"$E2E_LAST_MSG"
	E2E_LAST_RC=0
	swaks --server 127.0.0.1 --port "$E2E_SMTP_PORT" \
		--helo client.relaygate-e2e.test --from "$from" --to "$to" \
		--data "@$E2E_LAST_MSG" --suppress-data --timeout 60 \
		>"$E2E_LAST" 2>&1 || E2E_LAST_RC=$?
	e2e_debug "sent $name to $to: $(e2e_reply_line)"
	return 0
}

# e2e_final_reply [TRANSCRIPT] - the server's last reply before QUIT (the
# answer to the end of DATA, or to the command that failed), one line per
# reply line, without swaks' arrows.
e2e_final_reply() {
	awk '
		/^ -> QUIT/ { exit }
		/^ *<[-*~]+ / {
			if (!inreply) { n = 0; inreply = 1 }
			line = $0; sub(/^ *<[-*~]+ +/, "", line); r[++n] = line; next
		}
		{ inreply = 0 }
		END { for (i = 1; i <= n; i++) print r[i] }
	' "${1:-$E2E_LAST}"
}

# e2e_reply_code [TRANSCRIPT] - the 3-digit code of the final reply.
e2e_reply_code() { e2e_final_reply "$@" | tail -n 1 | cut -c1-3; }

# e2e_reply_line [TRANSCRIPT] - the final reply joined on one line.
e2e_reply_line() { e2e_final_reply "$@" | paste -sd '|' - | sed 's/|/ | /g'; }

# e2e_queue_id [TRANSCRIPT] - Postfix's queue id from "250 ... queued as ID".
e2e_queue_id() {
	e2e_final_reply "$@" | sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' | tail -n 1
}

# e2e_expect_reply CODE [TEXT...] - the final reply has CODE and contains
# every TEXT (fixed strings, case-sensitive).  Prints why not.
e2e_expect_reply() {
	local want=$1 got text reply
	shift
	reply=$(e2e_final_reply)
	got=$(printf '%s\n' "$reply" | tail -n 1 | cut -c1-3)
	if [ "$got" != "$want" ]; then
		e2e_diag "expected reply $want, got ${got:-nothing}:"
		e2e_show_reply
		return 1
	fi
	for text in "$@"; do
		if ! printf '%s\n' "$reply" | grep -qF -e "$text"; then
			e2e_diag "reply $got does not mention '$text':"
			e2e_show_reply
			return 1
		fi
	done
	return 0
}

# e2e_show_reply [TRANSCRIPT] - the final reply as diagnostics.
e2e_show_reply() { e2e_final_reply "$@" | sed 's/^/#     /'; }

# e2e_expect_not_in_sink [MARKER] - no sink file carries the marker.
e2e_expect_not_in_sink() {
	local file
	file=$(e2e_sink_find "${1:-$E2E_LAST_ID}")
	if [ -n "$file" ]; then
		e2e_diag "message ${1:-$E2E_LAST_ID} reached the sink: $file"
		return 1
	fi
	return 0
}

# ---------------------------------------------------------------- message parts

# e2e_headers FILE - the header section, one header a line (unfolded), CR
# removed.  For a sink file this starts with smtp-sink's X-Client-* records.
e2e_headers() {
	tr -d '\r' <"$1" | awk '
		/^$/ { exit }
		/^[ \t]/ { h = h $0; next }
		{ if (h != "") print h; h = $0 }
		END { if (h != "") print h }
	'
}

# e2e_header_values FILE NAME - the values of every NAME: header.
e2e_header_values() {
	e2e_headers "$1" | awk -v name="$2" '
		BEGIN { n = tolower(name) ":" }
		tolower(substr($0, 1, length(n))) == n {
			v = substr($0, length(n) + 1); sub(/^[ \t]+/, "", v); print v
		}
	'
}

# e2e_body FILE - the body (after the first empty line), CR removed.
e2e_body() { tr -d '\r' <"$1" | sed '1,/^$/d'; }

# e2e_sink_body FILE - the body of a sink dump, without the empty line
# smtp-sink appends after each message.
e2e_sink_body() { e2e_body "$1" | sed '$d'; }

# ---------------------------------------------------------------- teardown

# e2e_show_logs - tails of the maillog and the milter log.
e2e_show_logs() {
	local f
	for f in "$E2E_MAILLOG" "$E2E_MILTER_LOG" "$E2E_SINK_LOG" "$E2E_LOG_DIR/postfix.out"; do
		[ -s "$f" ] || continue
		echo "# ---- last lines of $(basename "$f") ----"
		tail -n 40 "$f" | sed 's/^/# /'
	done
}

# e2e_valgrind_check - every memcheck log of the milter: none may report
# an error (leaks of the kinds checked count as errors), and at least one
# milter must have exited and reported (one killed with SIGKILL cannot).
e2e_valgrind_check() {
	local f logs=0 reported=0 bad=0 errors
	for f in "$E2E_LOG_DIR"/valgrind.*.log; do
		[ -f "$f" ] || continue
		logs=$((logs + 1))
		errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) error.*/\1/p' "$f" | tail -n 1)
		[ -n "$errors" ] || continue
		reported=$((reported + 1))
		if [ "$errors" != 0 ]; then
			bad=$((bad + 1))
			echo "# valgrind: $errors errors in $(basename "$f"):"
			sed 's/^/#   /' "$f" | head -n 150
		fi
	done
	echo "# valgrind memcheck: $logs milter processes, $reported exited and reported, $bad with errors or leaks"
	[ "$logs" -gt 0 ] && [ "$reported" -gt 0 ] && [ "$bad" = 0 ]
}

# e2e_cleanup - the EXIT trap: stop everything, remove the temp tree.
e2e_cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	set +e
	if [ -n "$E2E_DIR" ]; then
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] || [ "$E2E_FAILED" != 0 ]; then
			e2e_show_logs >&9
		fi
		e2e_stop_postfix
		e2e_stop_sink
		if [ -n "$E2E_MILTER_PID" ]; then
			e2e_stop_milter TERM 8 >/dev/null
		fi
		if [ "${E2E_VALGRIND:-0}" = 1 ] && ! e2e_valgrind_check >&9; then
			[ "$rc" -eq 0 ] && rc=1
		fi
		# the script's own teardown (mounts), before the tree goes
		if declare -F e2e_cleanup_hook >/dev/null; then
			e2e_cleanup_hook
		fi
		if [ "${E2E_KEEP:-0}" = 1 ]; then
			echo "# kept $E2E_DIR" >&9
		else
			rm -rf "$E2E_DIR"
		fi
	fi
	exit "$rc"
}

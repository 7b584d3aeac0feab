#!/bin/bash
#
# orders.sh - the order rules end to end, with real Postfix instances on
# 127.0.0.1 and order data imported with "relaygate orders import".
#
#   1. SQLite, one Postfix + relaygate-milter: a review request in the
#      window is delivered; too early (review-timing), a proactive message
#      after 30 days (message-window), an order not in the store
#      (unknown-order, warn), a second request (review-repeat); then 20
#      concurrent review requests for one order: exactly one delivered.
#   2. PostgreSQL: a private server in a temporary data directory on
#      127.0.0.1 shared by two Postfix instances, each with its own
#      milter; 20 concurrent review requests for one order across both:
#      exactly one delivered, the other 19 refused with review-repeat.
#      The store's unit tests run against it too (RG_TEST_PG_CONNINFO).
#
# Run by "make check"; by hand: sudo tests/e2e/orders.sh (E2E_VERBOSE=1,
# E2E_KEEP=1 to debug).  Exit 0 pass, 1 fail, 77 skip: not root, Postfix
# or swaks missing, RG_SKIP_E2E set, or no PostgreSQL server binaries
# (the SQLite part has run then; the skip says the PostgreSQL part did
# not).
#
# lib.sh reads the instance variables set here and sets top_builddir;
# inst_save sets the INST_* copies:
# shellcheck disable=SC2119,SC2034,SC2154
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"

if [ -n "${RG_SKIP_E2E:-}" ]; then
	echo "SKIP: order rules end to end: RG_SKIP_E2E is set"
	exit 77
fi
if ! e2e_require; then
	echo "SKIP: order rules end to end: $E2E_WHY"
	exit 77
fi
e2e_require_milter || exit 1
[ -x "$E2E_CLI_BIN" ] || { echo "error: $E2E_CLI_BIN is not built"; exit 1; }

# PostgreSQL server binaries: the newest installed version
PG_BIN=
for dir in /usr/lib/postgresql/*/bin; do
	[ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && PG_BIN=$dir
done
# the server runs as the postgres user the package creates
id postgres >/dev/null 2>&1 || PG_BIN=

FROM=orders@northwind-garden.example
RELAY=2m7kq9xw4p1rz8d@marketplace.amazon.com
CONCURRENT=20

n=0
failed=0

run_case() {
	local desc=$1 diag
	shift
	n=$((n + 1))
	diag=$E2E_OUT/case-$n.diag
	if "$@" >"$diag" 2>&1; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		cat "$diag"
		failed=$((failed + 1))
		E2E_FAILED=1
	fi
}

# ---------------------------------------------------------------- instances

# What differs between the two Postfix + milter pairs; lib.sh works on
# whichever set is loaded.
INST_VARS="E2E_PF_ETC E2E_PF_QUEUE E2E_PF_DATA E2E_LOG_DIR E2E_MAILLOG
E2E_MILTER_DIR E2E_MILTER_LOG E2E_SMTP_PORT E2E_MILTER_SOCKET
E2E_MILTER_PORT E2E_MILTER_SPEC E2E_MILTER_PF E2E_MILTER_PID
E2E_POSTFIX_UP E2E_MYHOSTNAME"
INST_SAVED=

inst_save() {
	local v
	for v in $INST_VARS; do
		eval "INST_${1}_$v=\${$v}"
	done
	case " $INST_SAVED " in *" $1 "*) ;; *) INST_SAVED="$INST_SAVED $1" ;; esac
}

inst_load() {
	local v
	for v in $INST_VARS; do
		eval "$v=\${INST_${1}_$v}"
	done
}

# inst_new NAME - a second instance's directories and ports (loaded)
inst_new() {
	local name=$1
	E2E_PF_ETC=$E2E_DIR/postfix-$name/etc
	E2E_PF_QUEUE=$E2E_DIR/postfix-$name/queue
	E2E_PF_DATA=$E2E_DIR/postfix-$name/data
	E2E_LOG_DIR=$E2E_DIR/log-$name
	E2E_MAILLOG=$E2E_LOG_DIR/maillog
	E2E_MILTER_DIR=$E2E_DIR/milter-$name
	E2E_MILTER_LOG=$E2E_LOG_DIR/milter.log
	mkdir -p "$E2E_PF_ETC" "$E2E_PF_QUEUE" "$E2E_PF_DATA" "$E2E_LOG_DIR" \
		"$E2E_MILTER_DIR/spool"
	chmod 755 "$E2E_DIR/postfix-$name" "$E2E_PF_ETC" "$E2E_PF_QUEUE" \
		"$E2E_LOG_DIR" "$E2E_MILTER_DIR"
	chmod 700 "$E2E_MILTER_DIR/spool"
	chown root:root "$E2E_PF_QUEUE"
	chown postfix "$E2E_PF_DATA" "$E2E_LOG_DIR"
	: >"$E2E_MILTER_LOG"
	E2E_SMTP_PORT=$(e2e_free_ports 1)
	E2E_MILTER_SOCKET=$E2E_MILTER_DIR/milter.sock
	E2E_MILTER_PORT=
	E2E_MILTER_SPEC=unix:$E2E_MILTER_SOCKET
	E2E_MILTER_PF=$E2E_MILTER_SPEC
	E2E_MILTER_PID=
	E2E_POSTFIX_UP=0
	E2E_MYHOSTNAME=mx-$name.$E2E_TAG.test
}

PG_DATA=
PG_PORT=

pg_stop() {
	if [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
		runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate \
			-w stop >/dev/null 2>&1 || true
	fi
}

# orders_cleanup - the EXIT trap: the second instance and the database,
# then lib.sh's cleanup for the first (which removes the directory).  The
# milters are stopped together: libmilter takes seconds to exit.
orders_cleanup() {
	local rc=$? name pids=''
	set +e
	for name in $INST_SAVED; do
		[ "$name" = a ] && continue
		inst_load "$name"
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] || [ "$E2E_FAILED" != 0 ]; then
			echo "# ---- instance $name" >&9
			e2e_show_logs >&9
		fi
		e2e_stop_postfix
		if [ -n "$E2E_MILTER_PID" ]; then
			kill -TERM "$E2E_MILTER_PID" 2>/dev/null
			pids="$pids $E2E_MILTER_PID"
		fi
	done
	case " $INST_SAVED " in *" a "*) inst_load a ;; esac
	if [ -n "$E2E_MILTER_PID" ]; then
		kill -TERM "$E2E_MILTER_PID" 2>/dev/null
	fi
	for pid in $pids; do
		e2e_wait_exit "$pid" 10 || kill -KILL "$pid" 2>/dev/null
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] || [ "$E2E_FAILED" != 0 ]; then
		[ -n "$PG_DATA" ] && tail -n 20 "$PG_DATA/../pg.log" 2>/dev/null |
			sed 's/^/# pg: /' >&9
	fi
	pg_stop
	(exit "$rc")
	e2e_cleanup
}

# ---------------------------------------------------------------- messages

NOW=$(date -u +%s)
# when DAYS - a report date DAYS days from now (negative: ago)
when() { date -u -d "@$((NOW + $1 * 86400))" +%Y-%m-%dT%H:%M:%SZ; }

# message FILE ORDER KIND - a message about ORDER: a review request
# ("review") or a proactive question ("question"), dated now
message() {
	local file=$1 order=$2 kind=$3
	{
		printf 'From: Northwind Garden Supplies <%s>\n' "$FROM"
		printf 'To: %s\n' "$RELAY"
		printf 'Subject: Your order %s\n' "$order"
		printf 'Date: %s\n' "$(date -R)"
		printf 'Message-ID: <%s.%s@northwind-garden.example>\n' "$kind" "$RANDOM$RANDOM"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n'
		printf 'Content-Transfer-Encoding: 8bit\n\nHello,\n\n'
		if [ "$kind" = review ]; then
			printf 'we hope the cedar planter box from order %s suits your\n' "$order"
			printf 'garden. If you have a moment, please leave a review of your\n'
			printf 'purchase on the marketplace; it helps other gardeners choose.\n'
		else
			printf 'which colour of cedar stain would you like for order %s? We\n' "$order"
			printf 'will treat the planter box before it leaves our workshop.\n'
		fi
		for _ in $(seq 1 "${PARAGRAPHS:-0}"); do
			printf '\nThe cedar planter box is made from untreated western red\n'
			printf 'cedar, which weathers to a silver grey. Line it with the\n'
			printf 'enclosed membrane before you add compost, and stand it on\n'
			printf 'the feet supplied so that it can drain.\n'
		done
		printf '\nKind regards,\nNorthwind Garden Supplies\n'
	} >"$file"
}

# Orders: delivered 10 days ago (the concurrent runs use their own), 2
# days ago, bought 45 days ago; UNKNOWN is in no report.
OK=123-1000000-0000001
EARLY=123-1000000-0000002
OLD=123-1000000-0000003
UNKNOWN=123-1000000-0000009
RACE_SQLITE=123-1000000-0000010
RACE_PG=123-1000000-0000011

write_reports() {
	# a CSV for delivery dates and locales, and an all-orders flat file
	# (tab-separated, CRLF, BOM) naming the same orders
	{
		echo "order_id,purchase_date,delivery_date,buyer_locale"
		echo "$OK,$(when -12),$(when -10),en_US"
		echo "$EARLY,$(when -4),$(when -2),en_US"
		echo "$OLD,$(when -45),$(when -40),en_GB"
		echo "$RACE_SQLITE,$(when -14),$(when -9),en_US"
		echo "$RACE_PG,$(when -14),$(when -9),en_US"
	} >"$E2E_DIR/reports/orders.csv"
	{
		printf '\357\273\277amazon-order-id\tpurchase-date\torder-status\tsales-channel\r\n'
		for o in $OK $EARLY $OLD $RACE_SQLITE $RACE_PG; do
			printf '%s\t%s\tShipped\tAmazon.com\r\n' "$o" "$(when -12)"
		done
	} >"$E2E_DIR/reports/all-orders.txt"
}

# ---------------------------------------------------------------- checks

delivered() {
	if ! SINK=$(e2e_wait_for_sink_message "$E2E_LAST_ID" 10); then
		e2e_diag "message $E2E_LAST_ID did not reach the sink within 10 s"
		return 1
	fi
}

header_has() {
	local values
	values=$(e2e_header_values "$SINK" X-Relaygate)
	case $values in
	*"$1"*) return 0 ;;
	esac
	e2e_diag "X-Relaygate: $values (want $1)"
	return 1
}

send() {   # send NAME ORDER KIND
	message "$E2E_OUT/$1.eml" "$2" "$3"
	e2e_send "$1" "$E2E_OUT/$1.eml" "$FROM" "$RELAY"
}

# send_together PREFIX PORTS FILE... - one SMTP session per file, spread
# over PORTS (comma-separated), each taken up to the end of the message
# data; then, all at once (a barrier), the final "." that makes the
# milters judge, claim and answer together.  The final reply of session
# I goes to PREFIX-I.reply.  swaks would start them milliseconds apart.
send_together() {
	python3 - "$@" "$FROM" "$RELAY" <<'PY'
import socket, sys, threading

prefix, ports = sys.argv[1], [int(p) for p in sys.argv[2].split(",")]
files, sender, rcpt = sys.argv[3:-2], sys.argv[-2], sys.argv[-1]
barrier = threading.Barrier(len(files))

def reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise EOFError("connection closed")
        line = line.decode("latin-1").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return lines

def session(i, path):
    out = []
    try:
        s = socket.create_connection(("127.0.0.1", ports[i % len(ports)]),
                                     timeout=60)
        f = s.makefile("rb")
        def cmd(line, want):
            if line is not None:
                s.sendall(line.encode() + b"\r\n")
            r = reply(f)
            if not r[-1].startswith(want):
                raise RuntimeError("%s: %s" % (line, r[-1]))
        cmd(None, "220")
        cmd("EHLO client.relaygate-e2e.test", "250")
        cmd("MAIL FROM:<%s>" % sender, "250")
        cmd("RCPT TO:<%s>" % rcpt, "250")
        cmd("DATA", "354")
        data = open(path, "rb").read().replace(b"\r\n", b"\n")
        lines = [b"." + l if l.startswith(b".") else l
                 for l in data.rstrip(b"\n").split(b"\n")]
        s.sendall(b"\r\n".join(lines) + b"\r\n")
        barrier.wait(timeout=60)
        s.sendall(b".\r\n")
        out = reply(f)
        try:
            cmd("QUIT", "221")
        except Exception:
            pass
        s.close()
    except Exception as e:
        barrier.abort()
        out = ["error: %s" % e]
    with open("%s-%d.reply" % (prefix, i + 1), "w") as r:
        r.write("\n".join(out) + "\n")

threads = [threading.Thread(target=session, args=(i, p))
           for i, p in enumerate(files)]
for t in threads:
    t.start()
for t in threads:
    t.join()
PY
}

# concurrent PREFIX ORDER PORTS - CONCURRENT review requests for ORDER,
# judged at the same moment across the smtpd PORTS (comma-separated):
# exactly one 250, the rest 550 naming review-repeat; the store records
# the one
concurrent() {
	local prefix=$1 order=$2 ports=$3 i ok=0 refused=0 other=0 code
	local files=()
	# long enough that judging takes a while: the lookups of most
	# sessions come before any claim, so the claim itself is raced
	for i in $(seq 1 "$CONCURRENT"); do
		PARAGRAPHS=${RACE_PARAGRAPHS:-300} \
			message "$E2E_OUT/$prefix-$i.eml" "$order" review
		files+=("$E2E_OUT/$prefix-$i.eml")
	done
	send_together "$E2E_OUT/$prefix" "$ports" "${files[@]}" || return 1
	for i in $(seq 1 "$CONCURRENT"); do
		code=$(tail -n 1 "$E2E_OUT/$prefix-$i.reply" | cut -c1-3)
		if [ "$code" = 250 ]; then
			ok=$((ok + 1))
		elif [ "$code" = 550 ] &&
			grep -q review-repeat "$E2E_OUT/$prefix-$i.reply"; then
			refused=$((refused + 1))
		else
			other=$((other + 1))
			e2e_diag "request $i: $(paste -sd '|' "$E2E_OUT/$prefix-$i.reply")"
		fi
	done
	e2e_diag "$ok delivered, $refused refused with review-repeat, $other other"
	[ "$ok" = 1 ] && [ "$refused" = $((CONCURRENT - 1)) ] && [ "$other" = 0 ] ||
		return 1
	# the store says so, and names who recorded it
	"$E2E_CLI_BIN" orders -c "$CONF" show "$order" >"$E2E_OUT/$prefix.show" ||
		return 1
	grep -q 'review request: *recorded' "$E2E_OUT/$prefix.show" || {
		sed 's/^/#   /' "$E2E_OUT/$prefix.show"
		return 1
	}
}

# race_paths ORDER LOG... - how the losers lost, for the record: the
# claim (judged together, the insert lost) or the read (judged after the
# winner had recorded)
race_paths() {
	local order=$1 claim read
	shift
	claim=$(cat "$@" | grep -c "order $order: a concurrent review request was recorded first" || true)
	read=$(cat "$@" | grep -c "\"$order already had a review request\"" || true)
	echo "# $order: $claim lost the atomic claim, $((read - claim)) saw the record when judged"
}

# ---------------------------------------------------------------- cases

t_import() {
	"$E2E_CLI_BIN" orders -c "$CONF" init || return 1
	"$E2E_CLI_BIN" orders -c "$CONF" import --done "$E2E_DIR/reports/done" \
		"$E2E_DIR/reports" >"$E2E_OUT/import.out" 2>&1 || {
		sed 's/^/#   /' "$E2E_OUT/import.out"
		return 1
	}
	if ! grep -q 'all-orders report: 5 rows, 5 imported' "$E2E_OUT/import.out" ||
		! grep -q 'CSV: 5 rows, 5 imported' "$E2E_OUT/import.out" ||
		[ ! -f "$E2E_DIR/reports/done/orders.csv" ]; then
		sed 's/^/#   /' "$E2E_OUT/import.out"
		return 1
	fi
	"$E2E_CLI_BIN" orders -c "$CONF" stats | grep -q '^orders: *5$'
}

t_review_in_window() {
	send review-ok "$OK" review
	e2e_expect_reply 250 || return 1
	delivered || return 1
	header_has pass
}

t_review_too_early() {
	send review-early "$EARLY" review
	e2e_expect_reply 550 5.7.1 review-timing "day 2 from delivery" || return 1
	e2e_expect_not_in_sink
}

t_message_window() {
	send question-old "$OLD" question
	e2e_expect_reply 550 5.7.1 message-window "day 45 from purchase" ||
		return 1
	e2e_expect_not_in_sink
}

t_unknown_order() {
	send review-unknown "$UNKNOWN" review
	e2e_expect_reply 250 || return 1
	delivered || return 1
	header_has "warn; rules=unknown-order"
}

t_review_repeat() {
	send review-again "$OK" review
	e2e_expect_reply 550 5.7.1 review-repeat || return 1
	e2e_expect_not_in_sink
}

t_concurrent_sqlite() {
	concurrent race-sqlite "$RACE_SQLITE" "$E2E_SMTP_PORT"
}

t_pg_units() {
	RG_TEST_PG_CONNINFO=$PG_CONNINFO "$top_builddir/tests/unit/test_orders" \
		>"$E2E_OUT/pg-units.out" 2>&1 || {
		tail -n 20 "$E2E_OUT/pg-units.out" | sed 's/^/#   /'
		return 1
	}
	grep -q 'OK \] test_store_postgresql' "$E2E_OUT/pg-units.out"
}

t_pg_import() {
	cp "$E2E_DIR/reports/done/orders.csv" "$E2E_DIR/orders-pg.csv"
	if ! "$E2E_CLI_BIN" orders -c "$CONF" init ||
		! "$E2E_CLI_BIN" orders -c "$CONF" import "$E2E_DIR/orders-pg.csv" \
			>"$E2E_OUT/import-pg.out" 2>&1; then
		sed 's/^/#   /' "$E2E_OUT/import-pg.out"
		return 1
	fi
	"$E2E_CLI_BIN" orders -c "$CONF" show "$RACE_PG" | grep -q 'review request: *none'
}

t_concurrent_pg() {
	local a b
	a=$INST_a_E2E_SMTP_PORT
	b=$INST_b_E2E_SMTP_PORT
	concurrent race-pg "$RACE_PG" "$a,$b" || return 1
	# and both servers took part
	grep -l "$RACE_PG" "$INST_a_E2E_MILTER_LOG" >/dev/null &&
		grep -l "$RACE_PG" "$INST_b_E2E_MILTER_LOG" >/dev/null
}

# ---------------------------------------------------------------- run

e2e_init
trap orders_cleanup EXIT
mkdir -p "$E2E_DIR/reports/done"
write_reports

EXTRA="quarantine: { store_dir = \"$E2E_DIR/quarantine\"; notify = false; };
rules: { spelling = { action = \"off\"; }; };"
CONF=$E2E_DIR/relaygate.conf
e2e_write_milter_config "$CONF" "orders: { path = \"$E2E_DIR/orders.sqlite\"; };
$EXTRA"

e2e_start_sink
e2e_start_milter "$CONF"
e2e_write_postfix_config
e2e_start_postfix
inst_save a

echo "# SQLite order store, one Postfix instance"
run_case "orders init, import of a CSV and an all-orders report (BOM, CRLF)" t_import
run_case "review request on day 10 after delivery: delivered" t_review_in_window
run_case "review request on day 2: 550 review-timing" t_review_too_early
run_case "proactive message 45 days after purchase: 550 message-window" t_message_window
run_case "order not in the store: delivered with unknown-order (warn)" t_unknown_order
run_case "second review request for an order: 550 review-repeat" t_review_repeat
run_case "$CONCURRENT concurrent review requests for one order: exactly one delivered" \
	t_concurrent_sqlite
race_paths "$RACE_SQLITE" "$E2E_MILTER_LOG"

if [ -z "$PG_BIN" ]; then
	echo "1..$n"
	echo "# $((n - failed)) of $n passed in $(e2e_elapsed) s"
	[ "$failed" -eq 0 ] || exit 1
	echo "SKIP: PostgreSQL part: no initdb and pg_ctl under /usr/lib/postgresql (Debian: apt-get install postgresql)"
	exit 77
fi

echo "# PostgreSQL order store ($PG_BIN), two Postfix instances"
PG_DATA=$E2E_DIR/pg/data
PG_PORT=$(e2e_free_ports 1)
mkdir -p "$E2E_DIR/pg"
chown postgres "$E2E_DIR/pg"
chmod 700 "$E2E_DIR/pg"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres \
	-E UTF8 --locale=C --no-sync >"$E2E_OUT/initdb.out" 2>&1 || {
	cat "$E2E_OUT/initdb.out"
	exit 1
}
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$E2E_DIR/pg/pg.log" -w \
	-o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $E2E_DIR/pg -c fsync=off -c max_connections=200" \
	start >"$E2E_OUT/pg_ctl.out" 2>&1 || {
	cat "$E2E_OUT/pg_ctl.out" "$E2E_DIR/pg/pg.log"
	exit 1
}
PG_CONNINFO="host=127.0.0.1 port=$PG_PORT dbname=postgres user=postgres"
PG_ORDERS="orders: { backend = \"postgresql\"; conninfo = \"$PG_CONNINFO\"; };"

# instance a: the same milter, reloaded onto PostgreSQL
e2e_write_milter_config "$CONF" "$PG_ORDERS
$EXTRA"
kill -USR1 "$E2E_MILTER_PID"
ticks=100
until grep -q "configuration reloaded" "$E2E_MILTER_LOG"; do
	ticks=$((ticks - 1))
	[ "$ticks" -gt 0 ] || { echo "error: milter a did not reload"; exit 1; }
	e2e_sleep_tick
done

# instance b: its own Postfix and milter, the same sink and database
inst_new b
CONF_B=$E2E_DIR/relaygate-b.conf
e2e_write_milter_config "$CONF_B" "$PG_ORDERS
$EXTRA"
e2e_start_milter "$CONF_B"
e2e_write_postfix_config
e2e_start_postfix
inst_save b
inst_load a

run_case "order store unit tests against PostgreSQL (claims raced on 16 connections)" t_pg_units
run_case "orders init and import into PostgreSQL" t_pg_import
run_case "$CONCURRENT concurrent review requests across two Postfix instances: exactly one delivered, 19 review-repeat" \
	t_concurrent_pg
race_paths "$RACE_PG" "$INST_a_E2E_MILTER_LOG" "$INST_b_E2E_MILTER_LOG"

echo "1..$n"
echo "# $((n - failed)) of $n passed in $(e2e_elapsed) s"
[ "$failed" -eq 0 ]

#!/bin/bash
#
# quarantine.sh - relaygate's quarantine end to end, with the private
# Postfix of lib.sh, relaygate-milter and an smtp-sink: a message whose
# strongest finding is "quarantine" (here: emoji) gets 250 and is held in
# relaygate's store, not delivered; its sender gets a multipart/report
# notice from <>; `relaygate quarantine release` delivers the original
# bytes once; drop removes and notifies; a forged release marker does not
# let a message through; an unwritable store gives 451 (the client keeps
# the message); a message over the size limit is held whole and released
# whole; rejections carry guidance; monitor mode holds nothing.
# Run by "make check"; by hand: sudo tests/e2e/quarantine.sh
# (E2E_VERBOSE=1, E2E_KEEP=1 to debug).  Exit 0 pass, 1 fail, 77 skip.
#
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"

if [ -n "${RG_SKIP_E2E:-}" ]; then
	echo "SKIP: quarantine end to end: RG_SKIP_E2E is set"
	exit 77
fi
if ! e2e_require; then
	echo "SKIP: quarantine end to end: $E2E_WHY"
	exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: quarantine end to end: needs python3 to read notices"
	exit 77
fi
e2e_require_milter || exit 1
if [ ! -x "$E2E_CLI_BIN" ]; then
	echo "error: $E2E_CLI_BIN is not built (run make first)"
	exit 1
fi

FROM=orders@northwind-garden.example
RELAY=2m7kq9xw4p1rz8d@marketplace.amazon.com

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

# q ARGS... - relaygate quarantine with the test configuration
q() { "$E2E_CLI_BIN" quarantine -c "$CONF" "$@"; }

# sink_files TEXT - sink files that contain TEXT (a fixed string)
sink_files() { grep -rlF -e "$1" "$E2E_SINK_DIR" 2>/dev/null || true; }

# wait_sink_file TEXT [TIMEOUT_S] - print the first sink file holding TEXT
wait_sink_file() {
	local ticks=$((${2:-10} * 20)) file
	while [ "$ticks" -gt 0 ]; do
		file=$(sink_files "$1" | head -n 1)
		if [ -n "$file" ]; then
			echo "$file"
			return 0
		fi
		e2e_sleep_tick
		ticks=$((ticks - 1))
	done
	e2e_diag "nothing with '$1' reached the sink within ${2:-10} s"
	return 1
}

# copies MARKER - how many messages (not notices) with the marker
# reached the sink
copies() {
	local f n=0
	for f in $(sink_files "X-E2E-Id: $1"); do
		if e2e_header_values "$f" X-E2E-Id | grep -qxF -e "$1"; then
			n=$((n + 1))
		fi
	done
	echo "$n"
}

# held_now QID - the record id relaygate holds for Postfix's QID
held_now() {
	local id
	if ! id=$(e2e_quarantined "$CONF" "$1") || [ -z "$id" ]; then
		e2e_diag "queue id '$1' is not held in relaygate's store:"
		q list --all 2>&1 | sed 's/^/#     /'
		return 1
	fi
	echo "$id"
}

# discarded QID - Postfix logged the milter's discard of QID (so nothing
# of it can still be on its way to the sink)
discarded() {
	local ticks=200
	while ! grep -q "$1: milter-discard" "$E2E_MAILLOG"; do
		if [ "$ticks" -le 0 ]; then
			e2e_diag "Postfix did not discard $1"
			return 1
		fi
		e2e_sleep_tick
		ticks=$((ticks - 1))
	done
}

# check_notice FILE KIND ID [RULE] - FILE is a notice of KIND about record
# ID, to $FROM from <>: multipart/report with text/plain,
# application/json and text/rfc822-headers, Auto-Submitted, findings
check_notice() {
	local file=$1 kind=$2 id=$3 rule=${4:-emoji} args
	# smtp-sink records the envelope as X-Mail-Args and X-Rcpt-Args
	args=$(e2e_header_values "$file" X-Mail-Args)
	case $args in
	"<>"*) ;;
	*)
		e2e_diag "the notice's envelope sender is not null: MAIL $args"
		return 1
		;;
	esac
	if ! e2e_header_values "$file" X-Rcpt-Args | grep -qF "<$FROM>"; then
		e2e_diag "the notice is not to <$FROM>:"
		e2e_header_values "$file" X-Rcpt-Args | sed 's/^/#     /'
		return 1
	fi
	python3 - "$file" "$kind" "$id" "$rule" <<'EOF'
import email, email.policy, json, sys
path, kind, rid, rule = sys.argv[1:5]
raw = open(path, "rb").read()
msg = email.message_from_bytes(raw, policy=email.policy.default)
def fail(why):
    print("#   " + why)
    sys.exit(1)
if msg.get_content_type() != "multipart/report":
    fail("notice is %s, not multipart/report" % msg.get_content_type())
if msg.get_param("report-type") != "relaygate-findings":
    fail("report-type %r" % msg.get_param("report-type"))
if msg["Auto-Submitted"] != "auto-replied":
    fail("Auto-Submitted: %r" % msg["Auto-Submitted"])
if msg["X-Relaygate-Notice"] != "%s; id=%s" % (kind, rid):
    fail("X-Relaygate-Notice: %r" % msg["X-Relaygate-Notice"])
parts = msg.get_payload()
types = [p.get_content_type() for p in parts]
if types != ["text/plain", "application/json", "text/rfc822-headers"]:
    fail("parts %r" % types)
text = parts[0].get_content()
if rule not in text or "How to fix it" not in text or rid not in text:
    fail("text part lacks the finding, guidance or id:\n" + text)
report = json.loads(parts[1].get_payload(decode=True))
if report["notice"] != kind or report["id"] != rid:
    fail("JSON says %r %r" % (report["notice"], report["id"]))
rules = [f["rule"] for f in report["findings"]]
if rule not in rules or not all(f["guidance"] for f in report["findings"]):
    fail("JSON findings %r" % report["findings"])
headers = parts[2].get_payload(decode=True).decode("utf-8", "replace")
if "Subject:" not in headers or "X-E2E-Id:" not in headers:
    fail("text/rfc822-headers lacks the original headers:\n" + headers)
EOF
}

# same_message SENT SINK - the sink copy is the message sent: the same
# headers but for trace and relaygate's own, and a byte-identical body
same_message() {
	local sent=$1 got=$2
	if ! diff -u <(e2e_headers "$sent") <(e2e_headers "$got" |
		grep -viE '^(X-Client-Addr|X-Client-Proto|X-Helo-Args|X-Mail-Args|X-Rcpt-Args|Received|X-Relaygate):') \
		>"$E2E_OUT/release.diff"; then
		e2e_diag "released headers differ from the original:"
		sed 's/^/#     /' "$E2E_OUT/release.diff"
		return 1
	fi
	# (swaks ends the data with CRLF: the file sent lacks the last one)
	if ! cmp -s <(e2e_body "$sent" | sed '$a\') <(e2e_sink_body "$got"); then
		e2e_diag "released body differs from the original:"
		diff -u <(e2e_body "$sent" | sed '$a\') <(e2e_sink_body "$got") |
			head -n 20 | sed 's/^/#     /'
		return 1
	fi
}

# ---------------------------------------------------------------- cases

t_held() {
	e2e_send held "$HELD" "$FROM" "$RELAY"
	e2e_expect_reply 250 || return 1
	QID=$(e2e_queue_id)
	discarded "$QID" || return 1
	e2e_expect_not_in_sink || return 1
	ID=$(held_now "$QID") || return 1
	HELD_MSG=$E2E_LAST_MSG
	HELD_MARK=$E2E_LAST_ID
	# the human list shows it, newest first, with its rule
	if ! q list | grep -A1 "^$ID " | grep -q emoji; then
		e2e_diag "relaygate quarantine list does not show $ID with emoji:"
		q list 2>&1 | sed 's/^/#     /'
		return 1
	fi
}

t_held_notice() {
	local file
	file=$(wait_sink_file "X-Relaygate-Notice: held; id=$ID" 15) || return 1
	check_notice "$file" held "$ID"
}

t_show() {
	local out
	out=$(q show "$ID") || return 1
	for want in "Findings (" "emoji" "fix: " "Visible text" \
		"$(printf '\302\273')" "X-E2E-Id: $HELD_MARK"; do
		if ! printf '%s\n' "$out" | grep -qF -e "$want"; then
			e2e_diag "show $ID lacks '$want':"
			printf '%s\n' "$out" | sed 's/^/#     /'
			return 1
		fi
	done
	# --raw is the message as the milter received it
	q show --raw "$ID" >"$E2E_OUT/held.raw" || return 1
	if ! cmp -s <(e2e_body "$HELD_MSG" | sed '$a\') <(e2e_body "$E2E_OUT/held.raw"); then
		e2e_diag "show --raw body differs from what was sent"
		return 1
	fi
}

t_release_once() {
	local file count
	if ! q release --reason "checked with the seller" "$ID" >"$E2E_OUT/rel.out" 2>&1; then
		e2e_diag "release failed:"
		sed 's/^/#     /' "$E2E_OUT/rel.out"
		return 1
	fi
	file=$(e2e_wait_for_sink_message "$HELD_MARK" 15) || {
		e2e_diag "the released message did not reach the sink"
		return 1
	}
	same_message "$HELD_MSG" "$file" || return 1
	# and byte for byte the body relaygate held
	if ! cmp -s <(e2e_body "$E2E_OUT/held.raw") <(e2e_sink_body "$file"); then
		e2e_diag "released body differs from the held bytes"
		return 1
	fi
	if [ -n "$(e2e_header_values "$file" X-Relaygate-Release)" ]; then
		e2e_diag "the release marker reached the buyer"
		return 1
	fi
	case $(e2e_header_values "$file" X-Relaygate) in
	"released; id=$ID") ;;
	*)
		e2e_diag "X-Relaygate: $(e2e_header_values "$file" X-Relaygate)"
		return 1
		;;
	esac
	if ! grep -q "$ID: release marker verified" "$E2E_MILTER_LOG"; then
		e2e_diag "the milter did not verify the marker"
		return 1
	fi
	# a second release fails and sends nothing
	if q release "$ID" >"$E2E_OUT/rel2.out" 2>&1; then
		e2e_diag "a second release succeeded"
		return 1
	fi
	if ! grep -q "not held, released by" "$E2E_OUT/rel2.out"; then
		e2e_diag "second release: $(cat "$E2E_OUT/rel2.out")"
		return 1
	fi
	file=$(wait_sink_file "X-Relaygate-Notice: released; id=$ID" 15) || return 1
	check_notice "$file" released "$ID" || return 1
	count=$(copies "$HELD_MARK")
	if [ "$count" != 1 ]; then
		e2e_diag "the message reached the sink $count times"
		return 1
	fi
}

t_drop() {
	local qid id file
	e2e_send held-drop "$HELD" "$FROM" "$RELAY"
	e2e_expect_reply 250 || return 1
	qid=$(e2e_queue_id)
	id=$(held_now "$qid") || return 1
	q drop --reason "links to the shop" "$id" || return 1
	if q show --raw "$id" >/dev/null 2>&1; then
		e2e_diag "the dropped message's bytes are still there"
		return 1
	fi
	if q list | grep -q "^$id "; then
		e2e_diag "$id is still listed as held"
		return 1
	fi
	if ! q list --state dropped --json | grep -qF "\"id\":\"$id\""; then
		e2e_diag "$id is not listed as dropped"
		return 1
	fi
	file=$(wait_sink_file "X-Relaygate-Notice: dropped; id=$id" 15) || return 1
	check_notice "$file" dropped "$id" || return 1
	e2e_expect_not_in_sink
	if q release "$id" >/dev/null 2>&1; then
		e2e_diag "a dropped message was released"
		return 1
	fi
}

t_forged_marker() {
	local forged=$GEN/forged.eml qid id mac
	# a held record's id with a made-up MAC
	e2e_send held-target "$HELD" "$FROM" "$RELAY"
	id=$(held_now "$(e2e_queue_id)") || return 1
	mac=$(printf '%064d' 0 | tr 0 a)
	{ printf 'X-Relaygate-Release: %s %s\n' "$id" "$mac"; cat "$HELD"; } >"$forged"
	e2e_send forged-marker "$forged" "$FROM" "$RELAY"
	e2e_expect_reply 250 || return 1
	qid=$(e2e_queue_id)
	discarded "$qid" || return 1
	e2e_expect_not_in_sink || return 1
	held_now "$qid" >/dev/null || return 1
	if ! grep -q "forged or invalid release marker" "$E2E_MILTER_LOG"; then
		e2e_diag "the milter did not log the forged marker"
		return 1
	fi
	# on a message that passes, the forged marker never reaches the buyer
	{ printf 'X-Relaygate-Release: %s %s\n' "$id" "$mac"; cat "$COMPLIANT"; } >"$forged"
	e2e_send forged-compliant "$forged" "$FROM" "$RELAY"
	e2e_expect_reply 250 || return 1
	SINK=$(e2e_wait_for_sink_message "$E2E_LAST_ID" 10) || return 1
	if [ -n "$(e2e_header_values "$SINK" X-Relaygate-Release)" ]; then
		e2e_diag "a forged release marker reached the buyer"
		return 1
	fi
	case $(e2e_header_values "$SINK" X-Relaygate) in
	pass*) ;;
	*)
		e2e_diag "X-Relaygate: $(e2e_header_values "$SINK" X-Relaygate)"
		return 1
		;;
	esac
}

t_unwritable() {
	local msgdir=$E2E_QUARANTINE_DIR/msg before after qid
	before=$(q list --all --json | wc -l)
	mv "$msgdir" "$msgdir.away"
	: >"$msgdir"
	e2e_send unwritable "$HELD" "$FROM" "$RELAY"
	rm -f "$msgdir"
	mv "$msgdir.away" "$msgdir"
	e2e_expect_reply 451 4.7.1 || return 1
	e2e_expect_not_in_sink || return 1
	after=$(q list --all --json | wc -l)
	if [ "$before" != "$after" ]; then
		e2e_diag "a record appeared although the store failed"
		return 1
	fi
	# the client still has it: sent again, it is held
	e2e_send unwritable-retry "$HELD" "$FROM" "$RELAY"
	e2e_expect_reply 250 || return 1
	qid=$(e2e_queue_id)
	held_now "$qid" >/dev/null
}

t_release_oversize() {
	local big=$GEN/oversize.eml id file
	cp "$COMPLIANT" "$big"
	while [ "$(wc -c <"$big")" -lt 70000 ]; do
		printf '\n%s\n' "The cedar planter box is made from untreated western red cedar, which
weathers to a silver grey; line it with the membrane before you add compost." >>"$big"
	done
	e2e_send oversize "$big" "$FROM" "$RELAY"
	e2e_expect_reply 250 || return 1
	id=$(held_now "$(e2e_queue_id)") || return 1
	if ! q list --rule uncheckable --json | grep -qF "\"id\":\"$id\""; then
		e2e_diag "$id is not held as uncheckable"
		return 1
	fi
	q release --reason "big but fine" "$id" || return 1
	file=$(e2e_wait_for_sink_message "$E2E_LAST_ID" 15) || {
		e2e_diag "the released oversize message did not reach the sink"
		return 1
	}
	same_message "$E2E_LAST_MSG" "$file"
}

t_reject_guidance() {
	e2e_send violating "$VIOLATING" "$FROM" "$RELAY"
	e2e_expect_reply 550 5.7.1 "fix phone-number: " || return 1
	e2e_expect_not_in_sink
}

t_stats() {
	local out
	out=$(q stats --since 1h --json) || return 1
	python3 - "$out" <<'EOF' || return 1
import json, sys
s = json.loads(sys.argv[1])
def fail(why):
    print("#   " + why + ": " + sys.argv[1])
    sys.exit(1)
if s["released"] != 2 or s["dropped"] != 1 or s["held"] < 3:
    fail("counts")
if s["by_rule"].get("emoji", 0) < 5:
    fail("by rule")
if s["by_sender"].get("orders@northwind-garden.example", 0) < 5:
    fail("by sender")
if s["notices"]["sent"] < 3:
    fail("notices")
EOF
	q stats >/dev/null
}

t_monitor() {
	local before after
	before=$(q list --all --json | wc -l)
	sed -i 's/^mode = "enforce";$/mode = "monitor";/' "$CONF"
	: >"$E2E_OUT/reload.mark"
	kill -USR1 "$E2E_MILTER_PID"
	local ticks=100
	while ! grep -q "configuration reloaded.*monitor" "$E2E_MILTER_LOG"; do
		if [ "$ticks" -le 0 ]; then
			e2e_diag "the milter did not reload into monitor mode"
			return 1
		fi
		e2e_sleep_tick
		ticks=$((ticks - 1))
	done
	e2e_send monitor "$HELD" "$FROM" "$RELAY"
	e2e_expect_reply 250 || return 1
	SINK=$(e2e_wait_for_sink_message "$E2E_LAST_ID" 10) || return 1
	case $(e2e_header_values "$SINK" X-Relaygate) in
	"quarantine; rules=emoji; mode=monitor") ;;
	*)
		e2e_diag "X-Relaygate: $(e2e_header_values "$SINK" X-Relaygate)"
		return 1
		;;
	esac
	after=$(q list --all --json | wc -l)
	if [ "$before" != "$after" ]; then
		e2e_diag "monitor mode held a message"
		return 1
	fi
}

# ---------------------------------------------------------------- run

e2e_init
CONF=$E2E_DIR/relaygate.conf
GEN=$E2E_DIR/generated
mkdir "$GEN"
COMPLIANT=$E2E_DATA/e2e-compliant.eml
VIOLATING=$E2E_DATA/e2e-violating.eml
# a compliant message with one emoji: its strongest finding is emoji,
# whose action is "quarantine" in this configuration
HELD=$GEN/held.eml
{ cat "$COMPLIANT"; printf '\nWe hope it brings you joy \360\237\214\273\n'; } >"$HELD"

e2e_start_sink
e2e_write_postfix_config
e2e_start_postfix
# after Postfix: notices and releases go to its (final) smtpd port
e2e_write_milter_config "$CONF" 'mode = "enforce";
limits: { max_message_size = "64K"; };
rules: {
  emoji = { action = "quarantine"; };
};'
e2e_start_milter "$CONF"
echo "# Postfix on 127.0.0.1:$E2E_SMTP_PORT, sink on 127.0.0.1:$E2E_SINK_PORT, store $E2E_QUARANTINE_DIR"

ID=
QID=
run_case "quarantine-level finding: 250, held in the store, not delivered, listed" t_held
if [ -n "$ID" ]; then
	run_case "held notice: from <> to the sender, multipart/report with text, JSON and headers" \
		t_held_notice
	run_case "show: headers, findings with the excerpt marked, guidance, visible text; --raw" \
		t_show
	run_case "release: the original bytes reach the sink exactly once; a second release fails" \
		t_release_once
fi
run_case "drop: the message is removed and its sender notified" t_drop
run_case "forged release marker: still held; on a passing message it is stripped" \
	t_forged_marker
run_case "store unwritable: 451 4.7.1, nothing held; sent again, it is held" \
	t_unwritable
run_case "over the size limit: held whole (uncheckable), released whole" \
	t_release_oversize
run_case "reject: the SMTP reply carries the guidance lines" t_reject_guidance
run_case "stats: held, released, dropped, by rule and by sender, notices" t_stats
run_case "mode = monitor: delivered with the verdict in the header, nothing held" \
	t_monitor

echo "1..$n"
echo "# $((n - failed)) of $n passed in $(e2e_elapsed) s"
[ "$failed" -eq 0 ]

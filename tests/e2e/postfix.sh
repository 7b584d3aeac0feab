#!/bin/bash
#
# postfix.sh - relaygate end to end: a private Postfix on 127.0.0.1 with
# relaygate-milter as its smtpd milter and an smtp-sink as the next hop;
# swaks sends real messages through it.  Run by "make check"; by hand:
#   sudo tests/e2e/postfix.sh          (E2E_VERBOSE=1, E2E_KEEP=1 to debug)
# Exit 0 pass, 1 fail, 77 skip (not root, Postfix/swaks missing, or
# RG_SKIP_E2E set).  The corpus cases read $RG_SHARED_DIR/corpus (default
# ../shared next to the source tree) and are left out when it is absent.
#
set -eu
# Library functions with optional arguments are called without them:
# shellcheck disable=SC2119

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"

if [ -n "${RG_SKIP_E2E:-}" ]; then
	echo "SKIP: end-to-end test with Postfix: RG_SKIP_E2E is set"
	exit 77
fi
if ! e2e_require; then
	echo "SKIP: end-to-end test with Postfix: $E2E_WHY"
	exit 77
fi
e2e_require_milter || exit 1

FROM=orders@northwind-garden.example
RELAY=2m7kq9xw4p1rz8d@marketplace.amazon.com
ORDINARY=buyer@example.com
COMPLIANT=$E2E_DATA/e2e-compliant.eml
VIOLATING=$E2E_DATA/e2e-violating.eml
FORGED=$E2E_DATA/e2e-forged-header.eml

n=0
failed=0

# run_case DESCRIPTION FUNCTION - one "ok N" / "not ok N" line; the
# function's diagnostics follow a failure.
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

# ---------------------------------------------------------------- checks

# delivered - the last message reached the sink; sets SINK to the file.
delivered() {
	if ! SINK=$(e2e_wait_for_sink_message "$E2E_LAST_ID" 10); then
		e2e_diag "message $E2E_LAST_ID did not reach the sink within 10 s"
		return 1
	fi
}

# verdict_header WANT - the sink copy has exactly one X-Relaygate header
# and its value starts with WANT.
verdict_header() {
	local values count
	values=$(e2e_header_values "$SINK" X-Relaygate)
	count=$(printf '%s' "$values" | grep -c . || true)
	if [ "$count" != 1 ]; then
		e2e_diag "expected one X-Relaygate header, found $count"
		if [ -n "$values" ]; then
			printf '%s\n' "$values" | sed 's/^/#     X-Relaygate: /'
		fi
		return 1
	fi
	case $values in
	"$1" | "$1"[!a-z]*) ;;
	*)
		e2e_diag "X-Relaygate: $values (want $1)"
		return 1
		;;
	esac
	case $values in
	*forged*)
		e2e_diag "the sender's forged header survived: X-Relaygate: $values"
		return 1
		;;
	esac
}

# untouched ORIGINAL - the sink copy has no X-Relaygate header, the same
# headers as ORIGINAL (bar trace headers) and a byte-identical body.
untouched() {
	local orig=$1 values
	values=$(e2e_header_values "$SINK" X-Relaygate)
	if [ -n "$values" ]; then
		e2e_diag "mail that is not ours got X-Relaygate: $values"
		return 1
	fi
	if ! diff -u <(e2e_headers "$orig") <(e2e_headers "$SINK" |
		grep -viE '^(X-Client-Addr|X-Client-Proto|X-Helo-Args|X-Mail-Args|X-Rcpt-Args|Received|X-E2E-Id):') \
		>"$E2E_OUT/headers.diff"; then
		e2e_diag "headers changed on the way:"
		sed 's/^/#     /' "$E2E_OUT/headers.diff"
		return 1
	fi
	if ! cmp -s <(e2e_body "$orig") <(e2e_sink_body "$SINK"); then
		e2e_diag "body changed on the way:"
		diff -u <(e2e_body "$orig") <(e2e_sink_body "$SINK") | head -n 20 | sed 's/^/#     /'
		return 1
	fi
}

# refused CODE TEXT... - the last message got CODE (and every TEXT) at the
# end of the transaction and nothing reached the sink.
refused() {
	e2e_expect_reply "$@" || return 1
	e2e_expect_not_in_sink || return 1
}

# make_large OUT SIZE [TAIL] - the compliant message grown past SIZE bytes
# with more of its own paragraphs, then TAIL as the last paragraph.
make_large() {
	local out=$1 size=$2 tail=${3:-}
	cp "$COMPLIANT" "$out"
	while [ "$(wc -c <"$out")" -lt "$size" ]; do
		printf '\n%s\n' "The cedar planter box is made from untreated western red cedar, which
weathers to a silver grey. Line it with the enclosed membrane before you
add compost, and stand it on the feet supplied so that it can drain." >>"$out"
	done
	[ -n "$tail" ] && printf '\n%s\n' "$tail" >>"$out"
	return 0
}

# ---------------------------------------------------------------- cases

t_violating_relay() {
	e2e_send violating-relay "$VIOLATING" "$FROM" "$RELAY"
	refused 550 5.7.1 order-id phone-number emoji
}

t_compliant_relay() {
	e2e_send compliant-relay "$COMPLIANT" "$FROM" "$RELAY"
	e2e_expect_reply 250 || return 1
	delivered || return 1
	verdict_header pass
}

t_violating_ordinary() {
	e2e_send violating-ordinary "$VIOLATING" "$FROM" "$ORDINARY"
	e2e_expect_reply 250 || return 1
	delivered || return 1
	untouched "$VIOLATING"
}

t_mixed_recipients() {
	e2e_send violating-mixed "$VIOLATING" "$FROM" "$RELAY,$ORDINARY"
	refused 550 5.7.1 order-id
}

t_forged_header() {
	e2e_send forged-header "$FORGED" "$FROM" "$RELAY"
	e2e_expect_reply 250 || return 1
	delivered || return 1
	verdict_header pass
}

t_relay_domain_case() {
	e2e_send violating-upper "$VIOLATING" "$FROM" x@MARKETPLACE.AMAZON.DE
	refused 550 5.7.1 order-id
}

t_lookalike_domains() {
	local rcpt
	for rcpt in x@marketplace.amazon.de.evil.example x@notmarketplace.amazon.com; do
		e2e_send "lookalike-${rcpt#x@}" "$VIOLATING" "$FROM" "$rcpt"
		e2e_expect_reply 250 || return 1
		delivered || return 1
		untouched "$VIOLATING" || return 1
	done
}

t_killed_milter() {
	e2e_kill_milter || return 1
	e2e_send after-kill "$COMPLIANT" "$FROM" "$RELAY"
	refused 451 4.7.1 || return 1
	e2e_start_milter "$CONF" || return 1
	e2e_send after-restart "$COMPLIANT" "$FROM" "$RELAY"
	e2e_expect_reply 250 || return 1
	delivered || return 1
	verdict_header pass
}

t_spilled_body() {
	make_large "$GEN/large-late-phone.eml" 40000 \
		"Should the membrane tear, ring our workshop on +44 20 7946 0958."
	e2e_send large-late-phone "$GEN/large-late-phone.eml" "$FROM" "$RELAY"
	refused 550 5.7.1 phone-number || return 1
	make_large "$GEN/large-clean.eml" 40000
	e2e_send large-clean "$GEN/large-clean.eml" "$FROM" "$RELAY"
	e2e_expect_reply 250 || return 1
	delivered || return 1
	verdict_header pass
}

t_oversize() {
	make_large "$GEN/oversize.eml" 80000
	e2e_send oversize "$GEN/oversize.eml" "$FROM" "$RELAY"
	refused 550 5.7.1 uncheckable || return 1
	if ! e2e_pid_alive "$E2E_MILTER_PID"; then
		e2e_diag "relaygate-milter died"
		return 1
	fi
	e2e_send after-oversize "$COMPLIANT" "$FROM" "$RELAY"
	e2e_expect_reply 250 || return 1
	delivered || return 1
	verdict_header pass
}

t_sigterm() {
	local t0
	t0=$(e2e_elapsed)
	e2e_stop_milter TERM 10 || return 1
	STOP_SECS=$(awk -v a="$t0" -v b="$(e2e_elapsed)" 'BEGIN { printf "%.1f", b - a }')
	if [ "$E2E_MILTER_STATUS" != 0 ]; then
		e2e_diag "relaygate-milter exited $E2E_MILTER_STATUS on SIGTERM"
		return 1
	fi
}

# t_corpus FILE - through Postfix, FILE gets what "relaygate check" says.
t_corpus() {
	local file=$1 json verdict rules rcpt name qid
	name=$(basename "$file" .eml)
	json=$("$E2E_CLI_BIN" check -c "$CONF" --json "$file" 2>&1) || true
	verdict=$(printf '%s\n' "$json" | sed -n 's/.*"verdict": *"\([a-z]*\)".*/\1/p' | head -n 1)
	rules=$(printf '%s\n' "$json" | grep -o '"rule": *"[a-z-]*", *"action": *"reject"' |
		sed 's/"rule": *"\([a-z-]*\)".*/\1/' | sort -u)
	rcpt=$(e2e_header_values "$file" To | head -n 1 | sed -n 's/.*<\([^>]*\)>.*/\1/p')
	[ -n "$rcpt" ] || rcpt=$(e2e_header_values "$file" To | head -n 1 | tr -d ' ')
	e2e_send "corpus-$name" "$file" "$FROM" "$rcpt"
	case $verdict in
	reject)
		# shellcheck disable=SC2086 # one rule id a word
		refused 550 5.7.1 $rules
		;;
	quarantine)
		e2e_expect_reply 250 || return 1
		qid=$(e2e_queue_id)
		if ! e2e_quarantined "$CONF" "$qid" >/dev/null; then
			e2e_diag "queue id '$qid' is not in relaygate's quarantine"
			return 1
		fi
		e2e_expect_not_in_sink
		;;
	pass | warn)
		e2e_expect_reply 250 || return 1
		delivered || return 1
		verdict_header "$verdict"
		;;
	*)
		e2e_diag "relaygate check gave no verdict: $json"
		return 1
		;;
	esac
}

# ---------------------------------------------------------------- run

e2e_init
CONF=$E2E_DIR/relaygate.conf
GEN=$E2E_DIR/generated
mkdir "$GEN"
e2e_write_milter_config "$CONF" '
limits: {
  memory_spool = "16K";
  max_message_size = "64K";
};
rules: {
  uncheckable = { action = "reject"; };
};'
e2e_start_sink
e2e_start_milter "$CONF"
e2e_write_postfix_config
e2e_start_postfix
echo "# Postfix on 127.0.0.1:$E2E_SMTP_PORT, sink on 127.0.0.1:$E2E_SINK_PORT, milter on $E2E_MILTER_SPEC"

run_case "violating message to a relay address: 550 5.7.1 naming order-id, phone-number, emoji; nothing delivered" \
	t_violating_relay
run_case "compliant message to a relay address: delivered with X-Relaygate: pass" \
	t_compliant_relay
run_case "violating message to an ordinary address: delivered untouched" \
	t_violating_ordinary
run_case "violating message to a relay and an ordinary address: refused for both" \
	t_mixed_recipients
run_case "sender-forged X-Relaygate headers: the sink copy carries only the milter's" \
	t_forged_header
run_case "upper-case relay domain MARKETPLACE.AMAZON.DE is matched" \
	t_relay_domain_case
run_case "look-alike domains (marketplace.amazon.de.evil.example, notmarketplace.amazon.com) pass untouched" \
	t_lookalike_domains
run_case "milter killed: Postfix answers 451 4.7.1; after a restart the message goes through" \
	t_killed_milter
run_case "body over limits.memory_spool (16K): violation past the 16K point is rejected; a clean one passes" \
	t_spilled_body
run_case "body over limits.max_message_size (64K): configured action (reject, uncheckable); milter still serving" \
	t_oversize

corpus=${RG_SHARED_DIR:-$top_srcdir/../shared}/corpus
if [ -f "$corpus/manifest.tsv" ] && [ -x "$E2E_CLI_BIN" ]; then
	while IFS='	' read -r file _; do
		[ "$file" = file ] && continue
		[ -f "$corpus/$file" ] || continue
		run_case "corpus $file: same outcome through Postfix as relaygate check" \
			t_corpus "$corpus/$file"
	done <"$corpus/manifest.tsv"
else
	echo "# corpus cases skipped: no $corpus/manifest.tsv (set RG_SHARED_DIR)"
fi

STOP_SECS='?'
run_case "milter exits 0 on SIGTERM" t_sigterm
echo "# the milter took $STOP_SECS s to exit on SIGTERM"

echo "1..$n"
echo "# $((n - failed)) of $n passed in $(e2e_elapsed) s"
[ "$failed" -eq 0 ]

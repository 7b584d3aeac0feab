#!/bin/sh
# check.sh - `relaygate check` as a sending agent's tool sees it: exit
# codes, human output naming rule, place and excerpt, JSON Lines, stdin,
# and a clear error for a bad configuration.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
relaygate="$top_builddir/cli/relaygate"
data="$top_srcdir/tests/data"
conf="$top_srcdir/conf/relaygate.conf"
failed=0
n=0

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

out=$("$relaygate" check -c "$conf" "$data/cli-compliant.eml")
ok $? "compliant message exits 0"
echo "$out" | grep -q ': pass$'
ok $? "compliant message is a pass"

out=$("$relaygate" check -c "$conf" "$data/cli-violating.eml")
[ $? -eq 1 ]
ok $? "violating message exits 1"
for want in 'order-id in the message' 'line-breaks in part 1 at 4:1' \
	'attachment in part 2: "setup.exe: a program' 'fix attachment: '; do
	echo "$out" | grep -qF "$want"
	ok $? "human output has: $want"
done

json=$("$relaygate" check --json -c "$conf" "$data/cli-compliant.eml" \
	"$data/cli-violating.eml")
[ $? -eq 1 ]
ok $? "worst of two files decides the exit status"
echo "$json" | python3 -c '
import json, sys
rows = [json.loads(line) for line in sys.stdin]
assert len(rows) == 2, rows
assert rows[0]["verdict"] == "pass" and rows[0]["findings"] == []
assert rows[1]["verdict"] == "reject"
rules = sorted(f["rule"] for f in rows[1]["findings"])
assert rules == ["attachment", "line-breaks", "order-id", "thank-you-only"], rules
lb = [f for f in rows[1]["findings"] if f["rule"] == "line-breaks"][0]
assert (lb["part"], lb["line"], lb["column"], lb["action"]) == ("1", 4, 1, "reject"), lb
for f in rows[1]["findings"]:
    assert set(f) == {"rule", "action", "part", "line", "column", "excerpt"}
'
ok $? "JSON Lines: one object per file with every finding field"

"$relaygate" check -c "$conf" - < "$data/cli-compliant.eml" >/dev/null
ok $? "stdin with -"

"$relaygate" check -c "$conf" "$data/no-such-file.eml" >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "missing file exits 2"

bad=$(mktemp)
printf 'rules: {\n  emoji = { action = "block"; };\n};\n' > "$bad"
err=$("$relaygate" check -c "$bad" "$data/cli-compliant.eml" 2>&1 >/dev/null)
[ $? -eq 2 ]
ok $? "bad configuration exits 2"
echo "$err" | grep -qF "$bad:2: rule emoji: action \"block\""
ok $? "bad configuration error names file and line"
rm -f "$bad"

out=$("$relaygate" check -c "$conf" --explain emoji)
ok $? "--explain emoji exits 0"
for want in 'emoji' 'action:  reject' 'policy:  Do not use emojis' 'passes:' 'breaks:'; do
	echo "$out" | grep -qF "$want"
	ok $? "--explain shows: $want"
done
"$relaygate" check -c "$conf" --explain no-such-rule >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "--explain of an unknown rule exits 2"

out=$("$relaygate" corpus-report -c "$conf" "$data/manifest.tsv")
ok $? "corpus-report over tests/data/manifest.tsv exits 0"
echo "$out" | grep -qE '^line-breaks +1 +1 +0 +0$'
ok $? "corpus-report counts required line-breaks"
echo "$out" | grep -qF 'false blocks: 0; missed blocks: 0'
ok $? "corpus-report counts blocks"
wrong=$(mktemp -d)
sed 's/\temoji\tThanks/\tline-breaks\tThanks/' "$data/manifest.tsv" \
	> "$wrong/manifest.tsv"
cp "$data/cli-compliant.eml" "$data/cli-violating.eml" "$wrong/"
out=$("$relaygate" corpus-report -c "$conf" "$wrong/manifest.tsv")
[ $? -eq 1 ]
ok $? "corpus-report exits 1 when a forbidden rule appears"
echo "$out" | grep -qF 'forbidden line-breaks reported in cli-violating.eml'
ok $? "corpus-report names the forbidden finding"
rm -rf "$wrong"

echo "1..$n"
exit $failed
